package org.spicestream.it.qemu;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a "newc" cpio archive, the format the kernel unpacks as initramfs. The kernel reads
 * concatenated archives in turn, so this one can follow the base initramfs to add per-test files.
 */
final class Cpio implements AutoCloseable {

    private static final int FILE = 0100000;
    private static final int DIRECTORY = 0040000;
    // Far above the inode numbers GNU cpio gave the base archive.
    private static final int FIRST_INODE = 0x100000;

    private final OutputStream out;
    private long written;
    private int inode = FIRST_INODE;

    Cpio(OutputStream out) {
        this.out = out;
    }

    void directory(String name) throws IOException {
        header(name, DIRECTORY | 0755, 2, 0);
        pad();
    }

    void file(String name, byte[] content) throws IOException {
        file(name, content.length, 0644);
        write(content);
        pad();
    }

    /** Starts a file whose {@code size} bytes the caller then writes with {@link #write} and ends with {@link #pad}. */
    void file(String name, long size, int permissions) throws IOException {
        header(name, FILE | permissions, 1, size);
    }

    void write(byte[] bytes) throws IOException {
        write(bytes, 0, bytes.length);
    }

    void write(byte[] bytes, int off, int len) throws IOException {
        out.write(bytes, off, len);
        written += len;
    }

    void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }

    @Override
    public void close() throws IOException {
        header("TRAILER!!!", 0, 1, 0);
        // Block-aligned like GNU cpio, so a further archive could follow.
        while (written % 512 != 0) {
            out.write(0);
            written++;
        }
        out.flush();
    }

    private void header(String name, int mode, int links, long size) throws IOException {
        if (size > 0xffffffffL) {
            throw new IOException("newc cannot hold files of 4 GiB: " + name);
        }
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        String h = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
                inode++, mode, 0, 0, links, 0, size, 0, 0, 0, 0, nameBytes.length + 1, 0);
        write(h.getBytes(StandardCharsets.US_ASCII));
        write(nameBytes);
        write(new byte[] {0});
        pad();
    }
}
