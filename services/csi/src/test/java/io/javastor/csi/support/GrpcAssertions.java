package io.javastor.csi.support;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.assertj.core.api.ThrowableAssert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

public final class GrpcAssertions {
    private GrpcAssertions() {
    }

    /** The call fails with this code, and its message names what it must (e.g. the field). */
    public static StatusRuntimeException fails(Status.Code code, String messagePart, ThrowableAssert.ThrowingCallable call) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
        assertThat(e).as("expected %s", code).isNotNull();
        assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
        assertThat(e.getStatus().getDescription()).contains(messagePart);
        return e;
    }
}
