package org.spicestream.testsupport;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/** Installs leak recording before any test (and so before Netty's buffer classes) runs. */
public final class NettyLeakDetectionSessionListener implements LauncherSessionListener {
    @Override
    public void launcherSessionOpened(LauncherSession session) {
        NettyLeakDetection.install();
    }
}
