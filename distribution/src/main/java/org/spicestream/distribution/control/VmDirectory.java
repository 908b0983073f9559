package org.spicestream.distribution.control;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.spicestream.distribution.config.VmConfig;
import org.spicestream.distribution.config.VmLimits;
import org.spicestream.distribution.vm.VmRegistry;

/**
 * {@code --vm-dir}: one properties file per VM, {@code NAME.properties}, with the control API's keys ({@link
 * VmDefinition}). Read at start and watched: a created or changed file adds or replaces its VM, a removed file
 * removes it. A broken file is reported (logged with the key at fault) and skipped; the VMs of other files, and
 * the VM the broken file had defined before, stay as they are. Other files (editor backups, dot files) are ignored.
 * One thread watches; it also applies the changes.
 */
public final class VmDirectory implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(VmDirectory.class);

    /** Suffix of a VM file. */
    public static final String SUFFIX = ".properties";
    /** Largest VM file read. */
    public static final long MAX_FILE_BYTES = 64 * 1024;
    /** Changes to one file within this time are applied once (an editor writes in several steps). */
    public static final Duration SETTLE = Duration.ofMillis(200);

    private final Path dir;
    private final VmRegistry vms;
    private final VmLimits defaults;
    private final Clock clock;
    private final WatchService watcher;
    private final Thread thread;
    /** Content last applied per file name (to ignore events that changed nothing). */
    private final Map<String, Properties> applied = new HashMap<>();
    /** Files whose last version was broken, with the reason. */
    private final Map<String, String> broken = new HashMap<>();
    private volatile boolean closed;

    private VmDirectory(Path dir, VmRegistry vms, VmLimits defaults, Clock clock) throws IOException {
        this.dir = dir;
        this.vms = vms;
        this.defaults = defaults;
        this.clock = clock;
        this.watcher = dir.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                StandardWatchEventKinds.ENTRY_DELETE);
        this.thread = new Thread(this::run, "spice-streamd-vm-dir");
        this.thread.setDaemon(true);
    }

    /** Applies every file now, then watches. */
    public static VmDirectory start(Path dir, VmRegistry vms, VmLimits defaults) {
        try {
            VmDirectory d = new VmDirectory(dir, vms, defaults, Clock.systemUTC());
            d.scan();
            d.thread.start();
            LOG.info("watching {} for VM files ({} VM(s) from it)", dir, d.applied.size());
            return d;
        } catch (IOException e) {
            throw new IllegalStateException("cannot watch --vm-dir " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Files that were refused, with why (for tests and operators). */
    public synchronized Map<String, String> broken() {
        return Map.copyOf(broken);
    }

    private synchronized void scan() {
        Set<String> present = new HashSet<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                String file = f.getFileName().toString();
                present.add(file);
                apply(file);
            }
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", dir, e.toString());
            return;
        }
        for (String gone : Set.copyOf(applied.keySet())) {
            if (!present.contains(gone)) {
                apply(gone);
            }
        }
        broken.keySet().retainAll(present);
    }

    private void run() {
        while (!closed) {
            WatchKey key;
            try {
                key = watcher.take();
                // let a burst of writes (an editor, a copy) settle, then look at the whole directory
                Thread.sleep(SETTLE.toMillis());
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            key.pollEvents();
            key.reset();
            try {
                scan();
            } catch (RuntimeException e) {
                LOG.warn("applying {} failed: {}", dir, e.toString());
            }
        }
    }

    /** Brings VM {@code file}'s state in line with the file (created, changed, removed, broken). */
    private void apply(String file) {
        if (!file.endsWith(SUFFIX) || file.startsWith(".")) {
            return;
        }
        String name = file.substring(0, file.length() - SUFFIX.length());
        Path path = dir.resolve(file);
        if (!Files.exists(path)) {
            if (applied.remove(file) != null) {
                vms.remove(name);
                LOG.info("{}: removed, VM {} removed", path, name);
            }
            broken.remove(file);
            return;
        }
        Properties props = new Properties();
        try {
            if (Files.size(path) > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("larger than " + MAX_FILE_BYTES + " bytes");
            }
            try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
                props.load(r);
            }
            if (props.equals(applied.get(file))) {
                return;
            }
            Map<String, String> fields = new HashMap<>();
            props.stringPropertyNames().forEach(k -> fields.put(k, props.getProperty(k).trim()));
            VmConfig config = VmDefinition.parse(name, fields, defaults, clock);
            vms.put(config);
            applied.put(file, props);
            broken.remove(file);
            LOG.info("{}: VM {} {}", path, name, "applied");
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            broken.put(file, why);
            LOG.error("{}: skipped, the file is broken: {}", path, why);
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            watcher.close();
        } catch (IOException e) {
            LOG.debug("closing the watcher: {}", e.toString());
        }
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
