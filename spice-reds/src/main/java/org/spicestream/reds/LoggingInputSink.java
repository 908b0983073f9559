package org.spicestream.reds;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Input sink that only logs (default when no device consumes input). */
final class LoggingInputSink implements InputSink {
    static final LoggingInputSink INSTANCE = new LoggingInputSink();
    private static final Logger LOG = LoggerFactory.getLogger(LoggingInputSink.class);

    @Override
    public void keyPressed(int scancode) {
        LOG.debug("input: key down 0x{}", Integer.toHexString(scancode));
    }

    @Override
    public void keyReleased(int scancode) {
        LOG.debug("input: key up 0x{}", Integer.toHexString(scancode));
    }

    @Override
    public void mouseMotion(int dx, int dy, int buttons) {
        LOG.debug("input: mouse motion dx={} dy={} buttons=0x{}", dx, dy, Integer.toHexString(buttons));
    }

    @Override
    public void mousePosition(int x, int y, int buttons, int displayId) {
        LOG.debug("input: mouse position x={} y={} buttons=0x{} display={}", x, y, Integer.toHexString(buttons), displayId);
    }

    @Override
    public void mousePress(int button, int buttons) {
        LOG.debug("input: mouse press {} buttons=0x{}", button, Integer.toHexString(buttons));
    }

    @Override
    public void mouseRelease(int button, int buttons) {
        LOG.debug("input: mouse release {} buttons=0x{}", button, Integer.toHexString(buttons));
    }

    @Override
    public void releaseAll() {
        LOG.debug("input: release all");
    }
}
