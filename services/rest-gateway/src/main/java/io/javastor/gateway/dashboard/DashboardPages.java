package io.javastor.gateway.dashboard;

import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.config.annotation.ViewControllerRegistry;
import org.springframework.web.servlet.config.annotation.WebMvcConfigurer;

/**
 * The web dashboard: static files (classpath:/static/ui/, plain ES modules, no build step) at /ui/. They use the
 * public /v0 API only, with the token the user signs in with, so the files themselves need none (see
 * SecurityConfiguration: GET /ui/** is open, and nothing else is).
 */
@Configuration
public class DashboardPages implements WebMvcConfigurer {
    public static final String PATH = "/ui/";

    @Override
    public void addViewControllers(ViewControllerRegistry registry) {
        // The app's modules load relative to /ui/, so the bare /ui goes there first.
        registry.addRedirectViewController("/ui", PATH);
        registry.addViewController(PATH).setViewName("forward:" + PATH + "index.html");
    }
}
