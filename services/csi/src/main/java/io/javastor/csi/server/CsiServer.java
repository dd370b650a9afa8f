package io.javastor.csi.server;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import io.javastor.csi.CsiProperties;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The gRPC server on the unix domain socket (epoll), serving the Identity service and the mode's service. */
public class CsiServer implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(CsiServer.class);
    private final CsiProperties props;
    private final List<BindableService> services;
    private final List<ServerInterceptor> interceptors;
    private EpollEventLoopGroup boss;
    private EpollEventLoopGroup workers;
    private Server server;

    public CsiServer(CsiProperties props, List<BindableService> services, List<ServerInterceptor> interceptors) {
        this.props = props;
        this.services = services;
        this.interceptors = interceptors;
    }

    @Override
    public synchronized void start() {
        Path socket = props.socketPath();
        try {
            Files.createDirectories(socket.toAbsolutePath().getParent());
            Files.deleteIfExists(socket); // a socket left by a previous run would make bind fail
            boss = new EpollEventLoopGroup(1);
            workers = new EpollEventLoopGroup(2);
            NettyServerBuilder b = NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                    .channelType(EpollServerDomainSocketChannel.class)
                    .bossEventLoopGroup(boss).workerEventLoopGroup(workers);
            services.forEach(s -> b.addService(ServerInterceptors.intercept(s, interceptors)));
            server = b.build().start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve CSI on " + socket, e);
        }
        log.info("CSI {} plugin serving on unix://{}", props.getMode().name().toLowerCase(), socket);
    }

    @Override
    public synchronized void stop() {
        if (server != null) {
            server.shutdown();
            try {
                if (!server.awaitTermination(10, TimeUnit.SECONDS)) {
                    server.shutdownNow();
                }
            } catch (InterruptedException e) {
                server.shutdownNow();
                Thread.currentThread().interrupt();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            server = null;
            try {
                Files.deleteIfExists(props.socketPath());
            } catch (IOException e) {
                log.warn("could not remove {}: {}", props.socketPath(), e.toString());
            }
        }
    }

    @Override
    public synchronized boolean isRunning() {
        return server != null;
    }
}
