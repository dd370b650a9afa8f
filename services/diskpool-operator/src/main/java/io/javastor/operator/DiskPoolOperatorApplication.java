package io.javastor.operator;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** The DiskPool operator: DiskPool custom resources become pools through the REST API. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class DiskPoolOperatorApplication {
    public static void main(String[] args) {
        SpringApplication.run(DiskPoolOperatorApplication.class, args);
    }
}
