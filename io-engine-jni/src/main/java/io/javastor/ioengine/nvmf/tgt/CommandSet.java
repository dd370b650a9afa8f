package io.javastor.ioengine.nvmf.tgt;

import io.javastor.ioengine.nvmf.pdu.NvmeCommand;
import io.netty.buffer.ByteBuf;

/**
 * The commands a queue executes once its transport has the whole command: fabrics commands on any queue, then the
 * admin command set on queue 0 or the I/O command set on the others. Each answers through its {@link TransportQueue}
 * and owns the host data it is given (null when the command carries none). Runs on the queue's event loop.
 */
sealed interface CommandSet permits FabricsCommands, AdminCommands, IoCommands {
    void execute(NvmeCommand cmd, ByteBuf data);
}
