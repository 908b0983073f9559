package org.spicestream.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The server's own system-property defaults: none overrides what the command line set. */
class MainDefaultsTest {

    @Test
    void leakDetectionIsOffUnlessAsked() {
        String given = System.getProperty(Main.LEAK_DETECTION_PROPERTY);
        try {
            System.clearProperty(Main.LEAK_DETECTION_PROPERTY);
            Main.serverDefaults();
            assertThat(System.getProperty(Main.LEAK_DETECTION_PROPERTY)).isEqualTo("disabled");

            System.setProperty(Main.LEAK_DETECTION_PROPERTY, "simple");
            Main.serverDefaults();
            assertThat(System.getProperty(Main.LEAK_DETECTION_PROPERTY)).isEqualTo("simple");
        } finally {
            if (given == null) {
                System.clearProperty(Main.LEAK_DETECTION_PROPERTY);
            } else {
                System.setProperty(Main.LEAK_DETECTION_PROPERTY, given);
            }
        }
    }
}
