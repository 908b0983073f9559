package org.spicestream.testsupport;

import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a buffer leak while it ran (registered automatically through
 * JUnit's extension auto-detection, which the build turns on).
 */
public final class FailOnNettyLeakExtension implements AfterAllCallback {
    @Override
    public void afterAll(ExtensionContext context) {
        List<String> leaks = NettyLeakDetection.collectLeaks();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty buffer leak(s) detected after "
                    + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }
}
