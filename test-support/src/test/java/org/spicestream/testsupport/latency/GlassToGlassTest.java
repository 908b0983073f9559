package org.spicestream.testsupport.latency;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.spicestream.testsupport.latency.FrameTimeline.Event;

/** Matching draws to writes: latest write at or before the draw, first draw counts, loops and the window. */
class GlassToGlassTest {

    private static final long MS = 1_000_000;

    @Test
    void eachFrameIsMatchedToItsOwnWriteAndRedrawsDoNotCount() {
        List<Event> writes = List.of(new Event(0, 0), new Event(1, 33 * MS), new Event(2, 66 * MS));
        List<Event> draws = List.of(new Event(0, 20 * MS), new Event(0, 25 * MS), new Event(2, 90 * MS));

        GlassToGlass.Result r = GlassToGlass.measure(writes, draws, 0, 100 * MS);

        assertThat(r.written()).isEqualTo(3);
        assertThat(r.shown()).isEqualTo(2);
        assertThat(r.draws()).isEqualTo(3);
        assertThat(r.latenciesNanos()).containsExactly(20 * MS, 24 * MS);
        assertThat(r.p50Ms()).isEqualTo(20.0);
        assertThat(r.maxMs()).isEqualTo(24.0);
        assertThat(r.shownFraction()).isEqualTo(2.0 / 3);
    }

    @Test
    void aLoopingStreamMatchesTheLatestWriteOfANumberNotTheFirst() {
        List<Event> writes = new ArrayList<>();
        for (int loop = 0; loop < 3; loop++) {
            for (int i = 0; i < 10; i++) {
                writes.add(new Event(i, (loop * 10 + i) * 100 * MS));
            }
        }
        // Frame 4 of the third loop, drawn 15 ms after it was written.
        long written = (2 * 10 + 4) * 100 * MS;
        GlassToGlass.Result r = GlassToGlass.measure(writes, List.of(new Event(4, written + 15 * MS)));
        assertThat(r.latenciesNanos()).containsExactly(15 * MS);
        assertThat(r.written()).isEqualTo(30);
    }

    @Test
    void drawsBeforeAnyWriteOrOfFramesOutsideTheWindowAreIgnored() {
        List<Event> writes = List.of(new Event(7, 100 * MS), new Event(8, 200 * MS), new Event(9, 300 * MS));
        List<Event> draws = List.of(new Event(7, 50 * MS), new Event(8, 210 * MS), new Event(9, 310 * MS),
                new Event(42, 320 * MS));

        GlassToGlass.Result r = GlassToGlass.measure(writes, draws, 150 * MS, 250 * MS);

        assertThat(r.written()).isEqualTo(1);
        assertThat(r.latenciesNanos()).containsExactly(10 * MS);
        assertThat(r.draws()).isEqualTo(1);
    }

    @Test
    void percentilesOfNothingAreNaN() {
        GlassToGlass.Result r = GlassToGlass.measure(List.of(), List.of());
        assertThat(r.p50Ms()).isNaN();
        assertThat(r.shownFraction()).isZero();
    }
}
