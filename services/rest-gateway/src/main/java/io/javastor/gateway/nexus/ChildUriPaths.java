package io.javastor.gateway.nexus;

import org.springframework.boot.tomcat.TomcatConnectorCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.annotation.web.configuration.WebSecurityCustomizer;
import org.springframework.security.web.firewall.StrictHttpFirewall;

/**
 * A nexus child's id in a path is its URI (bdev:///uuid, nvmf://host:port/nqn), sent URL-encoded: '/' as %2F.
 * Tomcat rejects an encoded slash and Spring Security's firewall too, by default; here both let it through
 * undecoded, so it stays inside one path segment and Spring MVC decodes it into the {child_id} variable.
 * Path traversal stays rejected (by Tomcat and the firewall).
 */
@Configuration(proxyBeanMethods = false)
public class ChildUriPaths {

    @Bean
    TomcatConnectorCustomizer encodedSlashesPassThrough() {
        return connector -> connector.setEncodedSolidusHandling("passthrough");
    }

    @Bean
    WebSecurityCustomizer encodedSlashesAllowed() {
        StrictHttpFirewall firewall = new StrictHttpFirewall();
        firewall.setAllowUrlEncodedSlash(true);
        firewall.setAllowUrlEncodedDoubleSlash(true);
        // Tomcat passes %2F through undecoded, so the decoded servlet path still holds a '%'; nothing here decodes twice.
        firewall.setAllowUrlEncodedPercent(true);
        return web -> web.httpFirewall(firewall);
    }
}
