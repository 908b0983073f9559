package org.spicestream.reds;

import java.util.Objects;
import org.spicestream.reds.agent.AgentConfig;

/**
 * Immutable configuration of a {@link SpiceServer}, one small validated record per concern; start from {@link
 * #DEFAULT} and replace parts with the {@code with…} methods.
 *
 * @param listen where the server listens itself ({@link ListenConfig#NONE}: only through a {@link FrontDoor})
 * @param auth how tickets are checked
 * @param sessions session policy and client bounds
 * @param link bounds of the link stage
 * @param connection per-connection flow control
 * @param web the HTTP side of the server's own listeners
 * @param input keyboard and mouse
 * @param name what the server serves, put in its log lines (e.g. a VM's name)
 * @param mmTime each session's multimedia clock (R9)
 * @param agent how the guest agent (clipboard, display size) is relayed
 */
public record ServerConfig(ListenConfig listen, AuthConfig auth, SessionConfig sessions, LinkConfig link,
        ConnectionConfig connection, WebConfig web, InputConfig input, String name, MmTimeConfig mmTime,
        AgentConfig agent) {

    /** Default {@link #name()}. */
    public static final String DEFAULT_NAME = "spice";

    /** Loopback port 5900, no password (every ticket refused), the named defaults of every part. */
    public static final ServerConfig DEFAULT = new ServerConfig(ListenConfig.DEFAULT, AuthConfig.REFUSE_ALL,
            SessionConfig.DEFAULT, LinkConfig.DEFAULT, ConnectionConfig.DEFAULT, WebConfig.DEFAULT, InputConfig.DEFAULT,
            DEFAULT_NAME, MmTimeConfig.DEFAULT, AgentConfig.DEFAULT);

    public ServerConfig {
        Objects.requireNonNull(listen, "listen");
        Objects.requireNonNull(auth, "auth");
        Objects.requireNonNull(sessions, "sessions");
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(input, "input");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        Objects.requireNonNull(mmTime, "mmTime");
        Objects.requireNonNull(agent, "agent");
    }

    /** The defaults on a free loopback port, with ticketing disabled: what most tests start. */
    public static ServerConfig loopbackWithoutTicketing() {
        return DEFAULT.withListen(ListenConfig.of(ListenConfig.DEFAULT_HOST, 0)).withAuth(AuthConfig.TICKETING_DISABLED);
    }

    public ServerConfig withListen(ListenConfig newListen) {
        return new ServerConfig(newListen, auth, sessions, link, connection, web, input, name, mmTime, agent);
    }

    public ServerConfig withAuth(AuthConfig newAuth) {
        return new ServerConfig(listen, newAuth, sessions, link, connection, web, input, name, mmTime, agent);
    }

    public ServerConfig withSessions(SessionConfig newSessions) {
        return new ServerConfig(listen, auth, newSessions, link, connection, web, input, name, mmTime, agent);
    }

    public ServerConfig withLink(LinkConfig newLink) {
        return new ServerConfig(listen, auth, sessions, newLink, connection, web, input, name, mmTime, agent);
    }

    public ServerConfig withConnection(ConnectionConfig newConnection) {
        return new ServerConfig(listen, auth, sessions, link, newConnection, web, input, name, mmTime, agent);
    }

    public ServerConfig withWeb(WebConfig newWeb) {
        return new ServerConfig(listen, auth, sessions, link, connection, newWeb, input, name, mmTime, agent);
    }

    public ServerConfig withInput(InputConfig newInput) {
        return new ServerConfig(listen, auth, sessions, link, connection, web, newInput, name, mmTime, agent);
    }

    public ServerConfig withName(String newName) {
        return new ServerConfig(listen, auth, sessions, link, connection, web, input, newName, mmTime, agent);
    }

    public ServerConfig withMmTime(MmTimeConfig newMmTime) {
        return new ServerConfig(listen, auth, sessions, link, connection, web, input, name, newMmTime, agent);
    }

    /** Shorthand for {@code withInput(input().withSink(sink))}. */
    public ServerConfig withInputSink(InputSink sink) {
        return withInput(input.withSink(sink));
    }

    public ServerConfig withAgent(AgentConfig newAgent) {
        return new ServerConfig(listen, auth, sessions, link, connection, web, input, name, mmTime, newAgent);
    }
}
