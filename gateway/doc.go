// Package gateway is the HTTP front door of wapipe (contract section 8): the endpoint Meta
// posts WhatsApp webhooks to, behind the operator's TLS terminator.
//
// What it promises:
//
//   - GET /webhook answers Meta's verification handshake: 200 with hub.challenge as
//     text/plain when hub.mode is "subscribe" and hub.verify_token is the configured token,
//     403 otherwise (always 403 when no token is configured).
//   - POST /webhook is accepted only with an X-Hub-Signature-256 header "sha256=<hex>" that
//     is the HMAC-SHA256 of the raw body under one of the app secrets (several are accepted,
//     for rotation and for several apps; compared in constant time). A missing, malformed or
//     wrong signature is 401, a body over the limit 413; neither writes anything.
//   - A verified body is written to Kafka as one message whose value is the body byte for
//     byte, whose key is the phone_number_id of the first change (none when the body has no
//     such field, or is not JSON: the gateway proves origin, the worker judges content) and
//     whose headers are x-hub-signature-256 (as received) and x-received-at (RFC 3339, UTC).
//     The answer is 200 only once the broker acknowledged the write (all in-sync replicas);
//     503 when it did not within the write timeout (10 s), and Meta retries. A write that
//     timed out may still land later: the worker counts a redelivered webhook once.
//   - Other methods on /webhook are 405. /healthz is 200 while the process serves; /readyz is
//     503 with a JSON body naming kafka and since when while writes (or, without traffic, a
//     metadata probe of the topic) fail; /metrics counts requests by status code and times
//     the Kafka writes.
//   - Secrets never appear in a log line, an error, a response or a metric.
package gateway
