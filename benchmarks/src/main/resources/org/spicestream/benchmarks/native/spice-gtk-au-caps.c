/*
 * Measurement aid (GlassToGlassScenarios --spice-gtk-au-caps): spice-gtk 0.42 as it would be with one line changed.
 * spice-gtk gives the appsrc of its GStreamer decoder the caps "video/x-h264" (or "video/x-h265") without
 * alignment, so h264parse/h265parse find the end of an access unit only when the next one arrives: every picture
 * waits one frame interval. Each buffer spice-gtk pushes is one whole access unit (one SPICE frame), so the caps may
 * say so; this library, LD_PRELOADed into the viewer, rewrites exactly those two caps strings and says it did on
 * stderr. Nothing else is touched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void *(*caps_from_string_fn)(const char *string);

void *gst_caps_from_string(const char *string)
{
    static caps_from_string_fn real;
    if (real == NULL) {
        real = (caps_from_string_fn) dlsym(RTLD_NEXT, "gst_caps_from_string");
    }
    const char *replacement = NULL;
    if (string != NULL && strcmp(string, "video/x-h264") == 0) {
        replacement = "video/x-h264,stream-format=byte-stream,alignment=au";
    } else if (string != NULL && strcmp(string, "video/x-h265") == 0) {
        replacement = "video/x-h265,stream-format=byte-stream,alignment=au";
    }
    if (replacement != NULL) {
        fprintf(stderr, "spice-gtk-au-caps: appsrc caps %s\n", replacement);
        string = replacement;
    }
    return real(string);
}
