import { parseTrustedProxies, resolveClientAddress } from "./client_address.ts";
import { assert } from "../tests/fixtures/assert.ts";

const T = parseTrustedProxies("10.0.0.5, 10.0.0.6");

Deno.test("client address: the peer unless it is a trusted proxy", () => {
  assert(
    resolveClientAddress("198.51.100.7", "203.0.113.9", T) === "198.51.100.7",
    "untrusted peer",
  );
  assert(resolveClientAddress("198.51.100.7", null, new Set()) === "198.51.100.7", "no header");
  assert(resolveClientAddress("10.0.0.5", null, T) === "10.0.0.5", "trusted, no header");
});

Deno.test("client address: behind trusted proxies, the right-most untrusted hop", () => {
  assert(resolveClientAddress("10.0.0.5", "203.0.113.9", T) === "203.0.113.9", "one hop");
  // The client sent its own header: the terminator appended the real peer on the right.
  assert(
    resolveClientAddress("10.0.0.5", "1.2.3.4, 203.0.113.9", T) === "203.0.113.9",
    "a forged left entry is ignored",
  );
  assert(
    resolveClientAddress("10.0.0.5", "203.0.113.9, 10.0.0.6", T) === "203.0.113.9",
    "two trusted hops",
  );
  assert(resolveClientAddress("10.0.0.5", "2001:db8::1", T) === "2001:db8::1", "IPv6");
});

Deno.test("client address: malformed or all-trusted headers fall back to the peer", () => {
  assert(resolveClientAddress("10.0.0.5", "not-an-ip", T) === "10.0.0.5", "garbage");
  assert(resolveClientAddress("10.0.0.5", "203.0.113.9, <x>", T) === "10.0.0.5", "garbage right");
  assert(resolveClientAddress("10.0.0.5", "10.0.0.6", T) === "10.0.0.5", "all trusted");
  assert(resolveClientAddress("10.0.0.5", "", T) === "10.0.0.5", "empty");
  let threw = false;
  try {
    parseTrustedProxies("10.0.0.5, example.com");
  } catch {
    threw = true;
  }
  assert(threw, "a host name is refused in TRUSTED_PROXIES");
});
