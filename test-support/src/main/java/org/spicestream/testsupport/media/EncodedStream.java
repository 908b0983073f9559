package org.spicestream.testsupport.media;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A test stream as the guest sends it: one byte[] per DATA message (a whole JPEG, VP8/VP9 frame or
 * Annex-B access unit), with key-frame flags read from the bits, plus access to the source picture
 * and ffmpeg's own decode of any frame for PSNR checks.
 */
public final class EncodedStream {

    private final MediaSpec spec;
    private final List<byte[]> frames;
    private final List<Boolean> keyFrames;
    private final Path directory;

    EncodedStream(MediaSpec spec, List<byte[]> frames, Path directory) {
        if (frames.size() != spec.frameCount()) {
            throw new IllegalStateException(spec + ": encoder produced " + frames.size() + " frames");
        }
        this.spec = spec;
        this.frames = Collections.unmodifiableList(new ArrayList<>(frames));
        List<Boolean> keys = new ArrayList<>(frames.size());
        for (byte[] f : frames) {
            keys.add(Bitstreams.isKeyFrame(spec.codec(), f));
        }
        this.keyFrames = Collections.unmodifiableList(keys);
        this.directory = directory;
    }

    public MediaSpec spec() {
        return spec;
    }

    public VideoCodec codec() {
        return spec.codec();
    }

    public int width() {
        return spec.width();
    }

    public int height() {
        return spec.height();
    }

    public int frameCount() {
        return frames.size();
    }

    /** The frames in order; each is the payload of one DATA message. The arrays must not be modified. */
    public List<byte[]> frames() {
        return frames;
    }

    public byte[] frame(int index) {
        return frames.get(index);
    }

    /** Whether a decoder can start at frame {@code index} (IDR, IRAP, VP8/VP9 key frame; every JPEG). */
    public boolean isKeyFrame(int index) {
        return keyFrames.get(index);
    }

    /** One flag per frame, see {@link #isKeyFrame(int)}. */
    public List<Boolean> keyFrameFlags() {
        return keyFrames;
    }

    /** The indexes of the key frames. */
    public List<Integer> keyFrameIndexes() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < keyFrames.size(); i++) {
            if (keyFrames.get(i)) {
                out.add(i);
            }
        }
        return out;
    }

    /** The first key frame at or after {@code index}, wrapping round (the guest agent loops the stream). */
    public int nextKeyFrame(int index) {
        for (int i = 0; i < frames.size(); i++) {
            int k = (index + i) % frames.size();
            if (keyFrames.get(k)) {
                return k;
            }
        }
        throw new IllegalStateException("no key frame in " + spec);
    }

    public long totalBytes() {
        long n = 0;
        for (byte[] f : frames) {
            n += f.length;
        }
        return n;
    }

    /** The lossless picture frame {@code index} was encoded from (the codec limits PSNR against it). */
    public RgbImage sourceFrame(int index) {
        checkIndex(index);
        return TestMedia.sourceFrame(spec, index);
    }

    /** ffmpeg's own decode of frame {@code index} as RGB, with the stream's colour matrix and range. */
    public RgbImage decodedFrame(int index) {
        checkIndex(index);
        return TestMedia.decodedFrame(this, index);
    }

    /** Where the encoder output and cached decodes live. */
    public Path directory() {
        return directory;
    }

    private void checkIndex(int index) {
        if (index < 0 || index >= frames.size()) {
            throw new IndexOutOfBoundsException("frame " + index + " of " + frames.size());
        }
    }

    @Override
    public String toString() {
        return spec + " (" + totalBytes() + " bytes, key frames " + keyFrameIndexes() + ")";
    }
}
