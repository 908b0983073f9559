package org.spicestream.it.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The browser driver itself: a page's blocking dialog neither hangs the tests nor goes unnoticed. */
class HeadlessChromiumIT {

    @Test
    void aJavaScriptDialogIsDismissedAndReported() throws Exception {
        HeadlessChromium.requireChromium();
        try (HeadlessChromium chromium = HeadlessChromium.launch()) {
            chromium.navigate("data:text/html,<script>window.answer = prompt('Password')</script>");
            // without the dismissal this evaluation waits for the dialog (COMMAND_TIMEOUT, then an error)
            await().atMost(Duration.ofSeconds(20)).until(() -> "null".equals(
                    chromium.evaluateString("String(window.answer)")));
            assertThat(chromium.consoleProblems()).anySatisfy(e -> assertThat(e)
                    .startsWith("{\"method\":\"Page.javascriptDialogOpening\"").contains("\"message\":\"Password\""));
        }
    }
}
