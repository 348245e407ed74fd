package io.sluice.coordinator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.config.ConfigException;
import io.sluice.json.Json;
import io.sluice.store.NewJob;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which callback targets are refused, at submit and at delivery, and how deliveries are signed. */
class WebhookTargetsTest {
  private static final WebhookTargets PUBLIC_ONLY = WebhookTargets.parse("");

  @Test
  void everyReservedKindOfAddressIsNotPublic() throws Exception {
    for (String a :
        List.of(
            "127.0.0.1",
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "224.0.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "fc00::5",
            "::ffff:10.0.0.1",
            "::")) {
      assertThat(WebhookTargets.isPublic(InetAddress.getByName(a).getAddress())).as(a).isFalse();
    }
    for (String a : List.of("93.184.216.34", "8.8.8.8", "100.128.0.1", "2606:4700::1111")) {
      assertThat(WebhookTargets.isPublic(InetAddress.getByName(a).getAddress())).as(a).isTrue();
    }
  }

  @Test
  void aLiteralPrivateTargetIsRefusedAtSubmitUnlessAllowed() {
    assertThatThrownBy(() -> PUBLIC_ONLY.admit(callback("http://10.9.8.7/x")))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("SLUICE_WEBHOOK_ALLOW");
    assertThatThrownBy(() -> PUBLIC_ONLY.admit(callback("http://localhost:9000/x")))
        .isInstanceOf(ApiException.class);
    assertThatThrownBy(() -> PUBLIC_ONLY.admit(callback("http://[fd12::1]/x")))
        .isInstanceOf(ApiException.class);
    assertThatCode(() -> PUBLIC_ONLY.admit(callback("https://hooks.example.com/x")))
        .as("a name is checked at delivery")
        .doesNotThrowAnyException();
    WebhookTargets allowed = WebhookTargets.parse("10.0.0.0/8, hooks.internal");
    assertThatCode(() -> allowed.admit(callback("http://10.9.8.7/x"))).doesNotThrowAnyException();
  }

  @Test
  void atDeliveryANameResolvingToAnyPrivateAddressIsBlockedUnlessAllowed() {
    WebhookTargets.Resolver dns =
        host ->
            switch (host) {
              case "public.example" -> addresses("93.184.216.34");
              case "rebinding.example" -> addresses("93.184.216.34", "169.254.169.254");
              case "inside.corp" -> addresses("10.1.1.1");
              default -> throw new UnknownHostException(host);
            };
    assertThatCode(() -> PUBLIC_ONLY.checkDelivery("https://public.example/h", dns))
        .doesNotThrowAnyException();
    assertThatThrownBy(() -> PUBLIC_ONLY.checkDelivery("https://rebinding.example/h", dns))
        .isInstanceOfSatisfying(
            WebhookTargets.Blocked.class,
            b -> {
              assertThat(b.getMessage()).contains("169.254.169.254");
              assertThat(b.retry).isFalse();
            });
    assertThatThrownBy(() -> PUBLIC_ONLY.checkDelivery("https://gone.example/h", dns))
        .isInstanceOfSatisfying(WebhookTargets.Blocked.class, b -> assertThat(b.retry).isTrue());
    assertThatCode(
            () -> WebhookTargets.parse("10.1.0.0/16").checkDelivery("http://inside.corp/h", dns))
        .doesNotThrowAnyException();
    assertThatCode(
            () -> WebhookTargets.parse("inside.corp").checkDelivery("http://inside.corp/h", dns))
        .doesNotThrowAnyException();
    assertThatThrownBy(
            () -> WebhookTargets.parse("10.2.0.0/16").checkDelivery("http://inside.corp/h", dns))
        .isInstanceOf(WebhookTargets.Blocked.class);
  }

  @Test
  void theAllowListAndTheCallbackBodySayWhatIsWrong() {
    assertThatThrownBy(() -> WebhookTargets.parse("10.0.0.0/33"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("SLUICE_WEBHOOK_ALLOW");
    assertThatThrownBy(() -> WebhookTargets.parse("not a host!"))
        .isInstanceOf(ConfigException.class);
    assertThat(
            WebhookTargets.parseCallback(Json.read("{\"url\":\"https://h.example/x\"}")).events())
        .containsExactly("finished");
    for (String bad :
        List.of(
            "[]",
            "{\"url\":5}",
            "{\"url\":\"https://h.example\",\"secret\":\"x\"}",
            "{\"url\":\"https://h.example\",\"events\":[]}",
            "{\"url\":\"https://h.example\",\"events\":[\"failed\",\"failed\"]}",
            "{\"url\":\"/relative\"}",
            "{\"url\":\"https://h.example/#frag\"}")) {
      assertThatThrownBy(() -> WebhookTargets.parseCallback(Json.read(bad)))
          .as(bad)
          .isInstanceOf(ApiException.class);
    }
  }

  @Test
  void aDeliveryIsSignedWithHmacSha256OfTimestampAndBody() {
    // Computed apart: python3 -c "import hmac,hashlib; print(hmac.new(b'Jefe',
    //   b'1700000000.{\"id\":\"1\"}', hashlib.sha256).hexdigest())"
    assertThat(WebhookRelay.sign("Jefe", 1_700_000_000L, "{\"id\":\"1\"}"))
        .isEqualTo("63db3f5e41c08d5b2a67c2bc3346a926b454025f882ca533dad4f7a3cf2f8c2a");
  }

  @Test
  void secretsAreTenantPairsOfAtLeastSixteenCharactersAndNeverEchoed() {
    assertThat(WebhookConfig.secrets("a:0123456789abcdef, b:fedcba9876543210"))
        .isEqualTo(Map.of("a", "0123456789abcdef", "b", "fedcba9876543210"));
    assertThatThrownBy(() -> WebhookConfig.secrets("a:short-secret"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("at least 16")
        .hasMessageNotContaining("short-secret");
    assertThatThrownBy(() -> WebhookConfig.secrets("no-colon-secret-here"))
        .hasMessageNotContaining("no-colon-secret-here");
    WebhookConfig config = WebhookConfig.of("a:0123456789abcdef", "", Duration.ofSeconds(1));
    assertThat(config.toString()).doesNotContain("0123456789abcdef");
    assertThat(config.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(config.backoff(3)).isEqualTo(Duration.ofSeconds(4));
    assertThat(config.backoff(30)).isEqualTo(config.retryMax());
  }

  private static NewJob.Callback callback(String url) {
    return new NewJob.Callback(url, List.of("finished"));
  }

  private static InetAddress[] addresses(String... literals) throws UnknownHostException {
    InetAddress[] out = new InetAddress[literals.length];
    for (int i = 0; i < literals.length; i++) {
      out[i] = InetAddress.getByName(literals[i]);
    }
    return out;
  }
}
