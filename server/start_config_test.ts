import { assertEquals } from "../tests/fixtures/assert.ts";
import { browserUrl, supervisorConfigFromEnv } from "./start_config.ts";

Deno.test("browserUrl() names localhost, not 127.0.0.1 (WebAuthn refuses IP origins)", () => {
  assertEquals(browserUrl(supervisorConfigFromEnv({})), "http://localhost:8000/");
  assertEquals(browserUrl(supervisorConfigFromEnv({ PORT: "8123" })), "http://localhost:8123/");
  assertEquals(
    browserUrl(supervisorConfigFromEnv({ HOST: "0.0.0.0", PORT: "9000" })),
    "http://localhost:9000/",
  );
  assertEquals(
    browserUrl(supervisorConfigFromEnv({ HOST: "sign.example.org" })),
    "http://sign.example.org:8000/",
  );
});
