package io.javastor.ioengine.nvmf;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket transport for NVMe/TCP: Netty's native epoll when it loads, NIO otherwise. The epoll classes
 * are a runtime-scoped dependency of this module, so they are reached by name.
 */
public record NettyTransport(String name, IoHandlerFactory ioHandlerFactory, Class<? extends ServerChannel> serverChannel,
                             Class<? extends SocketChannel> socketChannel) {

    private static final NettyTransport BEST = detect();

    public static NettyTransport best() {
        return BEST;
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadPrefix, true), ioHandlerFactory);
    }

    @SuppressWarnings("unchecked")
    private static NettyTransport detect() {
        try {
            Class<?> epoll = Class.forName("io.netty.channel.epoll.Epoll");
            if ((boolean) epoll.getMethod("isAvailable").invoke(null)) {
                IoHandlerFactory f = (IoHandlerFactory) Class.forName("io.netty.channel.epoll.EpollIoHandler")
                        .getMethod("newFactory").invoke(null);
                return new NettyTransport("epoll", f,
                        (Class<? extends ServerChannel>) Class.forName("io.netty.channel.epoll.EpollServerSocketChannel"),
                        (Class<? extends SocketChannel>) Class.forName("io.netty.channel.epoll.EpollSocketChannel"));
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            // fall through to NIO: epoll is an optimisation
        }
        return new NettyTransport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class);
    }
}
