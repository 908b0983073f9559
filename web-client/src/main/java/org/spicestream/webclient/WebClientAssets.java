package org.spicestream.webclient;

/** Where the browser client's static files live on the class path (this jar), for a server to serve them. */
public final class WebClientAssets {

    /** Resource path prefix of the site: {@code index.html}, {@code spicestream.css}, {@code js/*.js}. */
    public static final String RESOURCE_ROOT = "org/spicestream/webclient/site/";

    private WebClientAssets() {}

    /** The class loader that holds {@link #RESOURCE_ROOT}. */
    public static ClassLoader classLoader() {
        return WebClientAssets.class.getClassLoader();
    }
}
