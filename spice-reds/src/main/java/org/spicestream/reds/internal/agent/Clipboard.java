package org.spicestream.reds.internal.agent;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.spicestream.reds.agent.VdAgent;

/**
 * Who owns each clipboard selection when several viewers share one guest agent, and where clipboard messages go.
 * The last grab wins: a viewer's grab is offered to the guest only (viewers that held an offer of the guest's data
 * get a release), the guest's grab to every viewer; requests go to the owner, answers to the requester only, a
 * request nobody can serve is answered empty at once; an owner that leaves releases its selection. Confined to the
 * router's executor.
 *
 * @param <V> the viewer type
 */
public final class Clipboard<V> {

    /** How the clipboard reaches the two sides. */
    public interface Link<V> {
        /** Whether the viewer takes part in the agent session (started, still connected). */
        boolean active(V viewer);

        /** Sends a whole message to a viewer (ownership passes). */
        void toViewer(V viewer, ByteBuf message);

        /** Sends a whole message to the guest agent (ownership passes). */
        void toGuest(ByteBuf message);

        /** Whether clipboard messages on the viewers' side carry the selection prefix. */
        boolean viewerPrefix();

        /** Whether clipboard messages on the agent's side carry the selection prefix. */
        boolean guestPrefix();
    }

    /** Stands for the guest as an owner. */
    private static final Object GUEST = new Object() {
        @Override
        public String toString() {
            return "guest";
        }
    };

    private final Link<V> link;
    private final ByteBufAllocator alloc;
    private final List<Selection> selections = new ArrayList<>();

    public Clipboard(Link<V> link, ByteBufAllocator alloc) {
        this.link = link;
        this.alloc = alloc;
        for (int i = 0; i < VdAgent.SELECTIONS; i++) {
            selections.add(new Selection(i));
        }
    }

    /** The selection a clipboard message is about (its first piece), or the clipboard without the prefix. */
    public static int selectionOf(ByteBuf first, boolean prefix) {
        int r = first.readerIndex() + VdAgent.MESSAGE_HEADER_SIZE;
        return prefix && first.writerIndex() > r ? first.getUnsignedByte(r) : VdAgent.SELECTION_CLIPBOARD;
    }

    /**
     * A viewer's GRAB, REQUEST, CLIPBOARD or RELEASE for {@code selection}: whether it goes on to the guest. A request
     * nobody can serve is answered here.
     */
    public boolean fromViewer(V viewer, int type, int selection) {
        if (selection < 0 || selection >= selections.size()) {
            return false;
        }
        Selection s = selections.get(selection);
        switch (type) {
            case VdAgent.CLIPBOARD_GRAB:
                s.owned(viewer);
                return true;
            case VdAgent.CLIPBOARD_REQUEST:
                if (s.owner == GUEST) {
                    s.viewerRequests.add(viewer);
                    return true;
                }
                // nobody can serve it: answer at once so that the viewer's paste does not hang
                link.toViewer(viewer, empty(link.viewerPrefix(), selection));
                return false;
            case VdAgent.CLIPBOARD:
                if (s.owner == viewer && s.guestRequests > 0) {
                    s.guestRequests--;
                    return true;
                }
                return false; // not asked for, or the viewer lost ownership meanwhile
            default:
                if (s.owner == viewer) {
                    s.owned(null);
                    return true;
                }
                return false; // a stale release must not clear another owner's grab
        }
    }

    /**
     * The guest's GRAB, REQUEST, CLIPBOARD or RELEASE for {@code selection}: the viewers it goes to (empty: dropped).
     * A grab is offered to {@code offerTo}; {@code wholeGrab} (a single-piece grab, borrowed; or null) is kept to be
     * offered to viewers that come later. A request nobody can serve is answered here.
     */
    public List<V> fromGuest(int type, int selection, ByteBuf wholeGrab, Collection<V> offerTo) {
        if (selection < 0 || selection >= selections.size()) {
            return List.of();
        }
        Selection s = selections.get(selection);
        switch (type) {
            case VdAgent.CLIPBOARD_GRAB:
                s.owned(GUEST);
                s.keepGrab(wholeGrab == null ? null : wholeGrab.retainedDuplicate());
                s.holders.addAll(offerTo);
                return List.copyOf(s.holders);
            case VdAgent.CLIPBOARD_REQUEST:
                if (s.owner != null && s.owner != GUEST && link.active(viewer(s.owner))) {
                    s.guestRequests++;
                    return List.of(viewer(s.owner));
                }
                link.toGuest(empty(link.guestPrefix(), selection));
                return List.of();
            case VdAgent.CLIPBOARD:
                V requester = s.viewerRequests.poll();
                while (requester != null && !link.active(requester)) {
                    requester = s.viewerRequests.poll();
                }
                return requester == null ? List.of() : List.of(requester);
            default:
                if (s.owner == GUEST) {
                    List<V> to = List.copyOf(s.holders);
                    s.owned(null);
                    return to;
                }
                return List.of();
        }
    }

    /** Offers a viewer that has just learned the agent's capabilities what the guest copied before it came. */
    public void offerGuestGrabs(V viewer) {
        for (Selection s : selections) {
            if (s.owner == GUEST && s.guestGrab != null) {
                s.holders.add(viewer);
                link.toViewer(viewer, s.guestGrab.retainedDuplicate());
            }
        }
    }

    /** A viewer left: its requests are forgotten, a selection it owns is released to the guest. */
    public void viewerGone(V viewer) {
        for (Selection s : selections) {
            s.viewerRequests.remove(viewer);
            s.holders.remove(viewer);
            if (s.owner == viewer) {
                s.owned(null);
                link.toGuest(release(link.guestPrefix(), s.id));
            }
        }
    }

    /** Forgets everything (the agent went away). */
    public void reset() {
        for (Selection s : selections) {
            s.owner = null;
            s.holders.clear();
            s.viewerRequests.clear();
            s.guestRequests = 0;
            s.keepGrab(null);
        }
    }

    @SuppressWarnings("unchecked")
    private V viewer(Object owner) {
        return (V) owner;
    }

    private ByteBuf empty(boolean prefix, int selection) {
        return AgentMessages.emptyClipboard(alloc, prefix, selection, VdAgent.CLIPBOARD_NONE);
    }

    private ByteBuf release(boolean prefix, int selection) {
        return AgentMessages.release(alloc, prefix, selection);
    }

    /** One selection: clipboard, primary or secondary. */
    private final class Selection {
        final int id;
        /** null, {@link #GUEST} or a viewer. */
        Object owner;
        /** The guest's grab message, offered to viewers that start later. */
        ByteBuf guestGrab;
        /** Viewers offered the guest's data. */
        final Set<V> holders = new LinkedHashSet<>();
        /** Viewers whose requests went to the guest, in order (the agent answers in order). */
        final ArrayDeque<V> viewerRequests = new ArrayDeque<>();
        /** Requests of the guest sent to the owning viewer and not answered yet. */
        int guestRequests;

        Selection(int id) {
            this.id = id;
        }

        void keepGrab(ByteBuf grab) {
            if (guestGrab != null) {
                guestGrab.release();
            }
            guestGrab = grab;
        }

        /**
         * Ownership passes to {@code next} (null: released). Waiting requesters get an empty answer, and viewers that
         * were offered the guest's data are told it is gone when someone else took the selection.
         */
        void owned(Object next) {
            Object prev = owner;
            owner = next;
            if (prev == next) {
                return;
            }
            if (prev == GUEST) {
                for (V v : viewerRequests) {
                    if (link.active(v)) {
                        link.toViewer(v, empty(link.viewerPrefix(), id));
                    }
                }
                viewerRequests.clear();
                if (next != null) {
                    for (V v : holders) {
                        if (v != next && link.active(v)) {
                            link.toViewer(v, release(link.viewerPrefix(), id));
                        }
                    }
                }
                holders.clear();
                keepGrab(null);
            } else if (prev != null) {
                for (int i = 0; i < guestRequests; i++) {
                    link.toGuest(empty(link.guestPrefix(), id));
                }
                guestRequests = 0;
            }
        }
    }
}
