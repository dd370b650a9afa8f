package io.javastor.ioengine.nvmf.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Both sides of DH-HMAC-CHAP run against each other in memory, message by message as the wire carries them: every
 * hash with every DH group, one-way and both ways, and each way it must fail. (The wire and the Linux host are in
 * NvmfAuthenticationWireTest and the VM test.)
 */
class DhchapExchangeTest {
    static final String HOST = "nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427";
    static final String SUB = "nqn.2019-05.io.javastor:auth-test";
    static final SecureRandom RANDOM = new SecureRandom();

    static Stream<Arguments> hashesAndGroups() {
        return Arrays.stream(DhchapHash.values()).flatMap(h -> Arrays.stream(DhGroup.values()).map(g -> Arguments.of(h, g)));
    }

    /** Runs a whole transaction; true when the controller ends authenticated. */
    static boolean run(DhchapControllerExchange controller, DhchapHostExchange host) throws DhchapException {
        controller.send(host.negotiate());
        controller.send(host.reply(controller.receive()));
        byte[] success2 = host.success1(controller.receive());
        if (success2 != null) {
            controller.send(success2);
        }
        return controller.authenticated();
    }

    @ParameterizedTest(name = "{0} with {1}")
    @MethodSource("hashesAndGroups")
    void everyHashWithEveryGroupAuthenticatesBothWays(DhchapHash hash, DhGroup group) throws DhchapException {
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), DhchapSecret.generate(RANDOM));
        DhchapControllerExchange controller = new DhchapControllerExchange(keys, HOST, SUB, List.of(hash), List.of(group), RANDOM);
        DhchapHostExchange host = new DhchapHostExchange(keys, HOST, SUB, 7, RANDOM);
        assertThat(controller.authenticated()).isFalse();
        assertThat(run(controller, host)).isTrue();
        assertThat(controller.failed()).isFalse();
    }

    @Test
    void theChallengeCarriesTheChosenHashGroupAndAFreshValue() throws DhchapException {
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), null);
        DhchapControllerExchange a = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA384), List.of(DhGroup.FFDHE2048), RANDOM);
        a.send(new DhchapHostExchange(keys, HOST, SUB, 1, RANDOM).negotiate());
        DhchapMessage.Challenge first = (DhchapMessage.Challenge) DhchapMessage.decode(a.receive());
        assertThat(first.hashId()).isEqualTo(DhchapHash.SHA384.id());
        assertThat(first.dhGroupId()).isEqualTo(DhGroup.FFDHE2048.id());
        assertThat(first.c1()).hasSize(48);
        assertThat(first.dhValue()).hasSize(256);
        a.send(new DhchapHostExchange(keys, HOST, SUB, 2, RANDOM).negotiate()); // a new Negotiate restarts
        DhchapMessage.Challenge second = (DhchapMessage.Challenge) DhchapMessage.decode(a.receive());
        assertThat(second.tid()).isEqualTo(2);
        assertThat(second.c1()).isNotEqualTo(first.c1());
        assertThat(second.dhValue()).isNotEqualTo(first.dhValue());
    }

    @Test
    void aWrongHostSecretGetsFailure1AndNeverAuthenticates() throws DhchapException {
        DhchapSecret right = DhchapSecret.generate(RANDOM);
        DhchapControllerExchange controller = new DhchapControllerExchange(new DhchapKeys(right, null), HOST, SUB,
                List.of(DhchapHash.SHA256), List.of(DhGroup.FFDHE2048), RANDOM);
        DhchapHostExchange host = new DhchapHostExchange(new DhchapKeys(DhchapSecret.generate(RANDOM), null), HOST, SUB, 3, RANDOM);
        controller.send(host.negotiate());
        controller.send(host.reply(controller.receive()));
        assertThat(controller.authenticated()).isFalse();
        assertThatThrownBy(() -> host.success1(controller.receive()))
                .isInstanceOf(DhchapException.class).hasMessageContaining("wrong or missing secret");
        assertThat(controller.failed()).isTrue();
        assertThat(controller.failure()).contains("does not match");
    }

    @Test
    void theSameSecretForAnotherHostNqnDoesNotAuthenticate() throws DhchapException {
        // The transformed key and the response both bind the host NQN: a secret is no good under another name.
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), null);
        DhchapControllerExchange controller = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        DhchapHostExchange impostor = new DhchapHostExchange(keys, HOST + "-other", SUB, 3, RANDOM);
        controller.send(impostor.negotiate());
        controller.send(impostor.reply(controller.receive()));
        assertThatThrownBy(() -> impostor.success1(controller.receive())).isInstanceOf(DhchapException.class);
        assertThat(controller.authenticated()).isFalse();
    }

    @Test
    void aControllerWithTheWrongControllerSecretIsRefusedByTheHost() throws DhchapException {
        DhchapSecret hostSecret = DhchapSecret.generate(RANDOM);
        DhchapControllerExchange controller = new DhchapControllerExchange(new DhchapKeys(hostSecret, DhchapSecret.generate(RANDOM)), HOST, SUB,
                List.of(DhchapHash.SHA512), List.of(DhGroup.FFDHE3072), RANDOM);
        DhchapHostExchange host = new DhchapHostExchange(new DhchapKeys(hostSecret, DhchapSecret.generate(RANDOM)), HOST, SUB, 4, RANDOM);
        controller.send(host.negotiate());
        controller.send(host.reply(controller.receive()));
        byte[] success1 = controller.receive();
        DhchapException refused = org.junit.jupiter.api.Assertions.assertThrows(DhchapException.class, () -> host.success1(success1));
        assertThat(refused.getMessage()).contains("controller's response does not match");
        controller.send(host.failure2(refused));
        assertThat(controller.authenticated()).isFalse();
        assertThat(controller.failed()).isTrue();
    }

    @Test
    void aHostThatAsksTheControllerToAuthenticateFailsWhereItHasNoControllerSecret() throws DhchapException {
        DhchapSecret hostSecret = DhchapSecret.generate(RANDOM);
        DhchapControllerExchange controller = new DhchapControllerExchange(new DhchapKeys(hostSecret, null), HOST, SUB,
                List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        DhchapHostExchange host = new DhchapHostExchange(new DhchapKeys(hostSecret, DhchapSecret.generate(RANDOM)), HOST, SUB, 5, RANDOM);
        controller.send(host.negotiate());
        controller.send(host.reply(controller.receive()));
        assertThatThrownBy(() -> host.success1(controller.receive())).isInstanceOf(DhchapException.class);
        assertThat(controller.authenticated()).isFalse();
    }

    @Test
    void noCommonHashOrGroupOrSecureChannelFailsWithItsExplanation() throws DhchapException {
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), null);
        DhchapControllerExchange onlyNull = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        onlyNull.send(new DhchapMessage.Negotiate(1, 0, List.of(1), List.of(1, 2)).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(onlyNull.receive())).explanation()).isEqualTo(DhchapException.DHGROUP_UNUSABLE);

        DhchapControllerExchange sha512 = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA512), List.of(DhGroup.NULL), RANDOM);
        sha512.send(new DhchapMessage.Negotiate(1, 0, List.of(1), List.of(0)).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(sha512.receive())).explanation()).isEqualTo(DhchapException.HASH_UNUSABLE);

        DhchapControllerExchange tls = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        tls.send(new DhchapMessage.Negotiate(1, 1, List.of(1), List.of(0)).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(tls.receive())).explanation()).isEqualTo(DhchapException.CONCAT_MISMATCH);
        assertThat(tls.failed()).isTrue();
    }

    @Test
    void aReplyOutOfOrderOrForAnotherTransactionIsRefused() throws DhchapException {
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), null);
        DhchapControllerExchange controller = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        controller.send(new DhchapMessage.Reply(0, new byte[32], null, 0, new byte[0]).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(controller.receive())).explanation()).isEqualTo(DhchapException.INCORRECT_MESSAGE);

        DhchapControllerExchange other = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.NULL), RANDOM);
        DhchapHostExchange host = new DhchapHostExchange(keys, HOST, SUB, 9, RANDOM);
        other.send(host.negotiate());
        other.receive();
        other.send(new DhchapMessage.Reply(10, new byte[32], null, 0, new byte[0]).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(other.receive())).explanation()).isEqualTo(DhchapException.INCORRECT_PAYLOAD);
        assertThat(other.authenticated()).isFalse();
    }

    @Test
    void aDhValueThatForcesAKnownSecretIsRefused() throws DhchapException {
        DhchapKeys keys = new DhchapKeys(DhchapSecret.generate(RANDOM), null);
        DhchapControllerExchange controller = new DhchapControllerExchange(keys, HOST, SUB, List.of(DhchapHash.SHA256), List.of(DhGroup.FFDHE2048), RANDOM);
        controller.send(new DhchapHostExchange(keys, HOST, SUB, 1, RANDOM).negotiate());
        controller.receive();
        byte[] one = new byte[256];
        one[255] = 1; // y = 1 makes the shared secret 1 whatever our exponent
        controller.send(new DhchapMessage.Reply(1, new byte[32], null, 0, one).encode());
        assertThat(((DhchapMessage.Failure) DhchapMessage.decode(controller.receive())).explanation()).isEqualTo(DhchapException.DHGROUP_UNUSABLE);
    }

    @Test
    void aSecretRoundTripsAndItsRepresentationIsChecked() {
        DhchapSecret s = DhchapSecret.generate(RANDOM);
        assertThat(s.text()).startsWith("DHHC-1:01:").endsWith(":");
        assertThat(DhchapSecret.parse(s.text())).isEqualTo(s);
        assertThat(s.toString()).doesNotContain(s.text().substring(10, 20));

        String body = s.text().substring(10, s.text().length() - 1);
        byte[] raw = Base64.getDecoder().decode(body);
        raw[3] ^= 1;
        String flipped = "DHHC-1:01:" + Base64.getEncoder().encodeToString(raw) + ":";
        assertThatThrownBy(() -> DhchapSecret.parse(flipped)).hasMessageContaining("CRC-32").hasMessageNotContaining(body);
        assertThatThrownBy(() -> DhchapSecret.parse("DHHC-1:07:" + body + ":")).hasMessageContaining("unknown key transformation 7");
        assertThatThrownBy(() -> DhchapSecret.parse("DHHC-1:01:" + Base64.getEncoder().encodeToString(new byte[20]) + ":"))
                .hasMessageContaining("16 bytes; it must be 32, 48 or 64");
        assertThatThrownBy(() -> DhchapSecret.parse("secret")).hasMessageContaining("DHHC-1:hh:<base64>:");
        assertThatThrownBy(() -> DhchapSecret.parse("DHHC-1:01:***:")).hasMessageContaining("not base64");
    }
}
