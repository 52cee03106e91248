#!/usr/bin/python3
"""Malformed-request and request-smuggling suite against demos/hello (RFC 9112 / 9110).

Usage: framing_test.py PATH_TO_HELLO [-k SUBSTRING] [-v]
       framing_test.py --connect PORT [-k SUBSTRING] [-v]   (another server, e.g. nginx)

Starts `hello --port=0 --address=127.0.0.1`, reads the port from its stderr line
"hello: listening on 127.0.0.1:<port>", then runs every case of CASES on a fresh
connection: the case's raw bytes are sent, then everything the server sends is read
until it closes the connection (3 s without data counts as "still open": no fixed
sleeps, a timeout only bounds a wait for something that should happen). The byte stream
received is parsed into responses; a case passes when the status codes, in order, are
the expected ones (or one of the expected alternatives), every 200 carries hello's body
"Hello, world", nothing unparsable follows, and the server closed the connection.

Conventions of the table:
  - A case whose last request carries "Connection: close" (or which is rejected) must be
    closed by the server itself: the client does not half-close (shut=False).
  - shut=True: the client half-closes (SHUT_WR) after sending; used where a correct
    server would otherwise wait for more bytes (an incomplete body) or keep a
    keep-alive connection open, so the end of the exchange is still observable.
  - A "smuggled" request is a complete request hidden in a body, a chunk or after a
    framing error: a correct server never answers it (it would be a second response).
  - Bare LF: RFC 9112 2.2 lets a recipient accept a lone LF as a line terminator. The
    server rejects it in chunk lines; to make a desync impossible the suite requires the
    same everywhere: a bare LF ending the request line, a field line, the header
    section, a chunk line or a trailer gets 400 (an LF-tolerant front end and a
    CRLF-only back end otherwise disagree on where the header section ends).
  - Every case fails on a connection reset: a reset can destroy responses the client has
    not read yet, so a server closing after an error must first drain the input.
  - Debatable cases list their accepted alternatives and say why next to the case.
Only the Python standard library is used.
"""
import os
import re
import socket
import subprocess
import sys
import threading
import time

IDLE_TIMEOUT = 3.0   # seconds without data before a connection counts as left open
TOTAL_TIMEOUT = 15.0  # upper bound per exchange

HOST = b"Host: a\r\n"
# The sentinel: a valid request that closes. Appended after a request whose body or
# framing is under test, it shows where the server thinks that request ended.
SENT = b"GET /s HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
CLOSE = b"Connection: close\r\n"
SMUG = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
HELLO_BODY = b"Hello, world"


def req(line=b"GET / HTTP/1.1", *fields, body=b"", host=True, close=True):
    """A request: line, Host (unless host=False), fields, Connection: close, body."""
    out = line + b"\r\n" + (HOST if host else b"")
    for f in fields:
        out += f + b"\r\n"
    if close:
        out += CLOSE
    return out + b"\r\n" + body


def post(*fields, body=b"", close=False):
    return req(b"POST / HTTP/1.1", *fields, body=body, close=close)


def chunked(body, *fields):
    """POST with Transfer-Encoding: chunked and the given raw chunked body, then SENT."""
    return post(b"Transfer-Encoding: chunked", *fields, body=body) + SENT


class Case:
    def __init__(self, name, rfc, send, expect, shut=False, heads=(), mode="once", why=""):
        self.name = name
        self.rfc = rfc
        # bytes, or a list of bytes / int (int n: wait until n responses arrived).
        self.send = send
        # A list of statuses, or a tuple of such lists (accepted alternatives).
        self.expect = expect
        self.shut = shut
        self.heads = set(heads)  # indices of final responses that answer a HEAD
        self.mode = mode  # once | bytewise | splits
        self.why = why


def alt(*lists):
    return tuple(lists)


# ---------------------------------------------------------------------------------------
# The cases.

CASES = []


def case(*a, **k):
    CASES.append(Case(*a, **k))


# ---- 1. Valid requests that must be served (RFC 9112 2-3, 9).
case("get-close", "9112 3", req(), [200])
case("get-keepalive-then-close", "9112 9.3", req(close=False) + SENT, [200, 200])
case("pipelined-3", "9112 9.3.2", req(close=False) * 2 + SENT, [200, 200, 200])
case("pipelined-100", "9112 9.3.2", req(close=False) * 99 + SENT, [200] * 100)
case("pipelined-1000", "9112 9.3.2", req(close=False) * 999 + SENT, [200] * 1000)
case("pipelined-then-half-close", "9112 9.6", req(close=False) * 3, [200] * 3, shut=True,
     why="a client's FIN after complete requests: every one of them is still answered")
case("many-tiny-chunks", "9112 7.1", chunked(b"1\r\nx\r\n" * 20000 + b"0\r\n\r\n"),
     [200, 200])
case("cl-no-space", "9110 5.5", post(b"Content-Length:5", body=b"hello") + SENT, [200, 200])
case("host-upper-trailing-dot", "3986 3.2.2", req(b"GET / HTTP/1.1", b"Host: A.B.", host=False),
     [200])
case("http10-closes-by-default", "9112 9.3", b"GET / HTTP/1.0\r\n\r\n", [200])
case("http10-no-second-response", "9112 9.3",
     b"GET / HTTP/1.0\r\n\r\n" + SENT, [200],
     why="1.0 without keep-alive: the connection closes after the response; the "
         "pipelined request must not be answered")
case("http10-keepalive", "9112 9.3",
     b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + SENT, [200, 200])
case("http10-keepalive-post-cl", "9112 9.3",
     b"POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\nhello" + SENT,
     [200, 200])
case("http10-no-host-ok", "9112 3.2", b"GET / HTTP/1.0\r\n\r\n", [200])
case("leading-crlf", "9112 2.2", b"\r\n" + req(), [200])
case("leading-crlf-x3", "9112 2.2", b"\r\n\r\n\r\n" + req(), [200])
case("leading-crlf-between-pipelined", "9112 2.2", req(close=False) + b"\r\n" + SENT,
     [200, 200])
case("absolute-form", "9112 3.2.2", req(b"GET http://a/ HTTP/1.1"), [200])
case("absolute-form-empty-path", "9112 3.2.2", req(b"GET http://a HTTP/1.1"), [200])
case("absolute-form-port-query", "9112 3.2.2", req(b"GET http://a:80/x?y=1 HTTP/1.1"), [200])
case("absolute-form-upper-scheme", "9112 3.2.2 / 3986 3.1",
     req(b"GET HTTP://A/ HTTP/1.1"), [200])
case("absolute-form-host-mismatch", "9112 3.2.2", req(b"GET http://b/ HTTP/1.1"), [200],
     why="the origin server MUST ignore Host and use the target's authority: not a 400")
case("absolute-form-no-host", "9112 3.2", req(b"GET http://a/ HTTP/1.1", host=False), [400],
     why="an HTTP/1.1 request lacking Host is a 400 even in absolute-form")
case("options-asterisk", "9112 3.2.4", req(b"OPTIONS * HTTP/1.1"), [200])
case("double-slash-path", "9112 3.2.1 / 3986 3.3", req(b"GET //x HTTP/1.1"), [200])
case("query-with-question-marks", "3986 3.4", req(b"GET /a?b?c=/d HTTP/1.1"), [200])
case("lowercase-method-is-a-token", "9110 9.1", req(b"get / HTTP/1.1"), alt([200], [501]),
     why="methods are case-sensitive tokens: 'get' is well-formed, unknown to most "
         "servers: served (hello answers every method) or 501, never 400")
case("long-valid-method", "9110 9.1", req(b"A" * 100 + b" / HTTP/1.1"), alt([200], [501]))
case("http11-minor-2-served", "9110 2.5", req(b"GET / HTTP/1.2"), [200],
     why="a higher minor version is processed as the highest supported: HTTP/1.1")
case("http11-minor-2-persistent", "9110 2.5 / 9112 9.3",
     req(b"GET / HTTP/1.2", close=False) + SENT, [200, 200],
     why="HTTP/1.2 is handled as 1.1, so the connection persists by default")
case("http11-minor-2-needs-host", "9110 2.5 / 9112 3.2",
     req(b"GET / HTTP/1.2", host=False), [400],
     why="handled as HTTP/1.1: Host is required")
case("head-then-get", "9110 9.3.2", req(b"HEAD / HTTP/1.1", close=False) + SENT,
     [200, 200], heads=[0],
     why="a HEAD response has no content; the next response must start right after it")
case("host-empty-value", "9112 3.2 / 9110 4.2.1", req(b"GET / HTTP/1.1", b"Host:", host=False),
     alt([200], [400]), why="'Host:' with an empty value is what a client sends for a URI "
     "without authority (valid field); an http URI with an empty host is invalid (9110 "
     "4.2.1), so an origin server may also reject it (nginx does)")
case("host-lowercase-name", "9110 5.1", b"GET / HTTP/1.1\r\nhOsT: a\r\nConnection: close\r\n\r\n",
     [200])
case("host-with-port", "9112 3.2", req(b"GET / HTTP/1.1", b"Host: a:8080", host=False), [200])
case("host-ipv6", "9112 3.2", req(b"GET / HTTP/1.1", b"Host: [::1]:80", host=False), [200])
case("host-empty-port", "3986 3.2.3", req(b"GET / HTTP/1.1", b"Host: a:", host=False), [200],
     why="port = *DIGIT: an empty port is valid syntax")
case("host-pct-encoded", "3986 3.2.2", req(b"GET / HTTP/1.1", b"Host: %61", host=False), [200])
case("field-value-obs-text", "9110 5.5", req(b"GET / HTTP/1.1", b"X: \x80\xfe\xff"), [200])
case("field-value-ows-trimmed", "9110 5.5", req(b"GET / HTTP/1.1", b"X: \t a b \t"), [200])
case("field-value-empty", "9110 5.5", req(b"GET / HTTP/1.1", b"X:"), [200])
case("field-value-only-ows", "9110 5.5", req(b"GET / HTTP/1.1", b"X: \t "), [200])
case("field-name-underscore", "9110 5.1", req(b"GET / HTTP/1.1", b"X_Y: z"), [200])
case("field-name-all-tchars", "9110 5.6.2",
     req(b"GET / HTTP/1.1", b"!#$%&'*+-.^_`|~09AZaz: v"), [200])
case("field-name-long", "9110 5.1", req(b"GET / HTTP/1.1", b"N" * 4000 + b": v"), [200])
case("many-fields-1000", "9112 5", req(b"GET / HTTP/1.1", *[b"X-%d: y" % i for i in range(1000)]),
     [200])
case("connection-close-case", "9110 7.6.1", req(b"GET / HTTP/1.1", b"Connection: ClOsE",
     close=False) + SENT, [200],
     why="connection options are case-insensitive: close, and the sentinel is never answered")
case("upgrade-not-honoured", "9110 7.8",
     req(b"GET / HTTP/1.1", b"Connection: Upgrade", b"Upgrade: h2c", close=False) + SENT,
     [200, 200], why="hello does not upgrade: the connection stays HTTP/1.1")

# ---- 2. Bodies and pipelining after each kind of body (RFC 9112 6).
case("cl-body-then-pipelined", "9112 6.2", post(b"Content-Length: 5", body=b"hello") + SENT,
     [200, 200])
case("cl-zero-then-pipelined", "9112 6.2", post(b"Content-Length: 0") + SENT, [200, 200])
case("cl-leading-zeros", "9110 8.6", post(b"Content-Length: 005", body=b"hello") + SENT,
     [200, 200])
case("cl-ows", "9110 5.5", post(b"Content-Length: \t 5 \t", body=b"hello") + SENT, [200, 200])
case("cl-many-leading-zeros", "9110 8.6",
     post(b"Content-Length: " + b"0" * 30 + b"5", body=b"hello") + SENT, alt([200, 200], [400]),
     why="1*DIGIT: valid; a recipient may bound the digits it reads (400), never misread")
case("no-cl-no-te-post-is-empty", "9112 6.3 (7)", post() + SENT, [200, 200],
     why="a request without Content-Length or Transfer-Encoding has no content")
case("get-with-cl-body", "9112 6.3 (6)", req(b"GET / HTTP/1.1", b"Content-Length: 5",
     close=False, body=b"hello") + SENT, [200, 200],
     why="Content-Length frames a GET body too; ignoring it turns the body into a request")
case("get-with-cl-body-smuggle", "9112 6.3 (6)",
     req(b"GET / HTTP/1.1", b"Content-Length: %d" % len(SMUG), close=False, body=SMUG) + SENT,
     [200, 200])
case("head-with-cl-body", "9112 6.3", req(b"HEAD / HTTP/1.1", b"Content-Length: 5",
     close=False, body=b"hello") + SENT, [200, 200], heads=[0])
case("options-with-cl-body", "9112 6.3", req(b"OPTIONS * HTTP/1.1", b"Content-Length: 5",
     close=False, body=b"hello") + SENT, [200, 200])
case("chunked-then-pipelined", "9112 7.1", chunked(b"5\r\nhello\r\n0\r\n\r\n"), [200, 200])
case("chunked-upper-hex", "9112 7.1", chunked(b"A\r\n0123456789\r\naB\r\n" + b"x" * 0xab +
     b"\r\n0\r\n\r\n"), [200, 200])
case("chunked-leading-zeros-size", "9112 7.1", chunked(b"0005\r\nhello\r\n0\r\n\r\n"), [200, 200])
case("chunked-last-chunk-00", "9112 7.1", chunked(b"1\r\nx\r\n000\r\n\r\n"), [200, 200],
     why="last-chunk = 1*(\"0\")")
case("chunked-on-get", "9112 6.1", req(b"GET / HTTP/1.1", b"Transfer-Encoding: chunked",
     close=False, body=b"3\r\nabc\r\n0\r\n\r\n") + SENT, [200, 200])
case("chunked-empty-body", "9112 7.1", chunked(b"0\r\n\r\n"), [200, 200])
case("chunked-te-case", "9112 7 (case-insensitive)",
     post(b"Transfer-Encoding: cHuNkEd", body=b"0\r\n\r\n") + SENT, [200, 200])
case("chunked-te-name-case", "9110 5.1",
     post(b"transfer-ENCODING: chunked", body=b"0\r\n\r\n") + SENT, [200, 200])
case("chunked-te-leading-ows", "9110 5.5", post(b"Transfer-Encoding:    chunked",
     body=b"0\r\n\r\n") + SENT, [200, 200])
case("chunked-te-trailing-ows", "9110 5.5", post(b"Transfer-Encoding: chunked \t",
     body=b"0\r\n\r\n") + SENT, [200, 200])
case("chunked-te-tab", "9110 5.5", post(b"Transfer-Encoding:\tchunked",
     body=b"0\r\n\r\n") + SENT, [200, 200])
case("chunk-ext-name", "9112 7.1.1", chunked(b"5;a\r\nhello\r\n0;b\r\n\r\n"), [200, 200])
case("chunk-ext-token-value", "9112 7.1.1", chunked(b"5;a=b;c=d\r\nhello\r\n0\r\n\r\n"),
     [200, 200])
case("chunk-ext-quoted", "9112 7.1.1", chunked(b'5;a="b c;d"\r\nhello\r\n0\r\n\r\n'), [200, 200])
case("chunk-ext-quoted-escape", "9112 7.1.1 / 9110 5.6.4",
     chunked(b'5;a="b\\"c"\r\nhello\r\n0\r\n\r\n'), [200, 200])
case("chunk-ext-quoted-obs-text", "9110 5.6.4",
     chunked(b'5;a="\xff\x80"\r\nhello\r\n0\r\n\r\n'), [200, 200])
case("chunk-ext-bws", "9112 7.1.1", chunked(b"5 ; a = b\r\nhello\r\n0\r\n\r\n"), [200, 200],
     why="chunk-ext = *( BWS \";\" BWS name [ BWS \"=\" BWS value ] ): whitespace around "
         "';' and '=' is grammar (BWS, which a recipient MUST parse and remove)")
case("trailer-valid", "9112 7.1.2", chunked(b"5\r\nhello\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n"),
     [200, 200])
case("trailer-content-length-ignored", "9112 7.1.2 / 9110 6.5.1",
     chunked(b"5\r\nhello\r\n0\r\nContent-Length: 40\r\n\r\n"), [200, 200],
     why="framing fields in trailers must not be acted on: the sentinel follows at once")
case("trailer-te-ignored", "9110 6.5.1",
     chunked(b"5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n"), [200, 200])
case("trailer-host-ignored", "9110 6.5.1", chunked(b"0\r\nHost: b\r\nHost: c\r\n\r\n"),
     [200, 200])
case("trailer-connection-close-ignored", "9110 6.5.1",
     chunked(b"0\r\nConnection: close\r\n\r\n"), alt([200, 200], [200]),
     why="Connection is not allowed in trailers; ignoring it (200,200) is expected, "
         "closing anyway is harmless")
case("expect-100-continue-sent-together", "9110 10.1.1",
     post(b"Expect: 100-continue", b"Content-Length: 5", body=b"hello") + SENT,
     alt([100, 200, 200], [200, 200]),
     why="the server may omit 100 when the content already arrived")
case("expect-100-continue-waits", "9110 10.1.1",
     [post(b"Expect: 100-continue", b"Content-Length: 5"), 1, b"hello" + SENT],
     [100, 200, 200], why="the client waits for 100 before the content: it must come")
case("expect-100-continue-case", "9110 10.1.1",
     [post(b"Expect: 100-Continue", b"Content-Length: 5"), 1, b"hello" + SENT],
     [100, 200, 200])
case("expect-100-chunked-waits", "9110 10.1.1",
     [post(b"Expect: 100-continue", b"Transfer-Encoding: chunked"), 1,
      b"5\r\nhello\r\n0\r\n\r\n" + SENT], [100, 200, 200])
case("expect-100-http10-ignored", "9110 10.1.1",
     b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", [200],
     why="a 100-continue expectation in an HTTP/1.0 request MUST be ignored: no 100")
case("expect-unknown", "9110 10.1.1", req(b"GET / HTTP/1.1", b"Expect: foo"),
     alt([200], [417]))
case("expect-100-too-large", "9110 10.1.1 / 15.5.14",
     post(b"Expect: 100-continue", b"Content-Length: 104857601"), [413],
     why="the point of 100-continue: a request that will be refused gets its final status "
         "instead of 100 (a 100 invites the client to send 100 MB for nothing)")

# ---- 3. Content-Length (RFC 9110 8.6, RFC 9112 6.2-6.3).
cl_bad = [
    ("cl-dup-equal", [b"Content-Length: 5", b"Content-Length: 5"]),
    ("cl-dup-unequal", [b"Content-Length: 5", b"Content-Length: 6"]),
    ("cl-dup-name-case", [b"Content-Length: 5", b"content-length: 5"]),
    ("cl-dup-second-empty", [b"Content-Length: 5", b"Content-Length:"]),
    ("cl-list-equal", [b"Content-Length: 5, 5"]),
    ("cl-list-nospace", [b"Content-Length: 5,5"]),
    ("cl-list-unequal", [b"Content-Length: 5, 6"]),
    ("cl-trailing-comma", [b"Content-Length: 5,"]),
    ("cl-leading-comma", [b"Content-Length: ,5"]),
    ("cl-space-inside", [b"Content-Length: 5 5"]),
    ("cl-plus", [b"Content-Length: +5"]),
    ("cl-minus", [b"Content-Length: -5"]),
    ("cl-minus-zero", [b"Content-Length: -0"]),
    ("cl-hex", [b"Content-Length: 0x5"]),
    ("cl-hex-digits", [b"Content-Length: 5a"]),
    ("cl-exponent", [b"Content-Length: 5e0"]),
    ("cl-decimal", [b"Content-Length: 5.0"]),
    ("cl-empty", [b"Content-Length:"]),
    ("cl-quoted", [b'Content-Length: "5"']),
    ("cl-unicode-digit", ["Content-Length: \u0665".encode()]),
    ("cl-vt-before", [b"Content-Length: \x0b5"]),
    ("cl-ff-after", [b"Content-Length: 5\x0c"]),
    ("cl-nul-after", [b"Content-Length: 5\x00"]),
    ("cl-overflow-u64", [b"Content-Length: 18446744073709551621"]),
    ("cl-space-before-colon", [b"Content-Length : 5"]),
    ("cl-tab-before-colon", [b"Content-Length\t: 5"]),
    ("cl-obs-fold-value", [b"Content-Length:", b" 5"]),
    ("cl-obs-fold-after-other", [b"X: y", b" Content-Length: 5"]),
]
for name, fields in cl_bad:
    # Whatever the server makes of it, the 5 bytes "hello" and the sentinel must never
    # be answered: one 400, then close.
    case(name, "9110 8.6 / 9112 6.3", post(*fields, body=b"hello") + SENT, [400])
case("cl-max-u64", "9110 8.6", post(b"Content-Length: 18446744073709551615"),
     alt([400], [413]), why="valid syntax, absurd size: 413; 400 for a digit bound is fine")
case("cl-over-limit", "design: max_body_size 100 MiB", post(b"Content-Length: 104857601"),
     [413])
case("cl-at-limit-waits-for-body", "design: max_body_size 100 MiB",
     post(b"Content-Length: 104857600"), [], shut=True,
     why="exactly the limit is allowed: no 413, the server waits for the content")
case("cl-short-body-waits", "9112 6.2", post(b"Content-Length: 10", body=b"hello"), [],
     shut=True, why="an incomplete message is not answered (the client closed)")
case("cl-underscore-is-other-field", "9110 5.1",
     post(b"Content_Length: 5", body=b"<<<<<") + SENT, [200, 400],
     why="Content_Length is not Content-Length: the POST has no content, then '<<<<<...' "
         "is a malformed request line")
case("cl-body-too-long-leftover", "9112 6.2",
     post(b"Content-Length: 3", body=b"hello\r\n") + SENT, [200, 400],
     why="the 2 bytes after the content ('lo') start a malformed request line")

# ---- 4. Transfer-Encoding (RFC 9112 6.1, 6.3, 7).
te_bad = [
    # (name, fields, accepted statuses, why)
    # 9112 6.3 (4): chunked not the final coding of a request -> 400 and close (MUST);
    # 501 (6.1, SHOULD) is only for an unknown coding *before* a final chunked. nginx
    # answers 501 to all of these.
    ("te-unknown-xchunked", [b"Transfer-Encoding: xchunked"], [400], ""),
    ("te-chunkedx", [b"Transfer-Encoding: chunkedx"], [400], ""),
    ("te-chunk", [b"Transfer-Encoding: chunk"], [400], ""),
    ("te-identity", [b"Transfer-Encoding: identity"], [400],
     "'identity' is no longer a transfer coding (RFC 7230 removed it): not chunked"),
    ("te-chunked-identity", [b"Transfer-Encoding: chunked, identity"], [400],
     "chunked not final: 400 and close (MUST)"),
    ("te-identity-chunked", [b"Transfer-Encoding: identity, chunked"], alt([400], [501]), ""),
    ("te-gzip-chunked", [b"Transfer-Encoding: gzip, chunked"], alt([400], [501]),
     "a coding the server does not implement: 501 (SHOULD); 400 is what the design says"),
    ("te-chunked-chunked", [b"Transfer-Encoding: chunked, chunked"], [400],
     "chunked MUST NOT be applied more than once (7.1)"),
    ("te-chunked-comma", [b"Transfer-Encoding: chunked,"], alt([400], [501]),
     "an empty list element after chunked: chunked is not unambiguously final"),
    ("te-comma-chunked", [b"Transfer-Encoding: ,chunked"], alt([400], [501], [200, 200]),
     "empty list elements may be ignored (9110 5.6.1): then it is plain chunked"),
    ("te-quoted", [b'Transfer-Encoding: "chunked"'], [400], ""),
    ("te-param", [b"Transfer-Encoding: chunked;q=1"], alt([400], [501]),
     "chunked defines no parameters"),
    ("te-empty", [b"Transfer-Encoding:"], [400], ""),
    ("te-vt", [b"Transfer-Encoding: \x0bchunked"], [400], "VT is not OWS nor a field-vchar"),
    ("te-ff", [b"Transfer-Encoding: chunked\x0c"], [400], ""),
    ("te-nul", [b"Transfer-Encoding: chunked\x00"], [400], ""),
    ("te-bare-cr", [b"Transfer-Encoding: chunked\rX: y"], [400], ""),
    ("te-obs-text", [b"Transfer-Encoding: chunked\xff"], [400], ""),
    ("te-space-before-colon", [b"Transfer-Encoding : chunked"], [400],
     "9112 5.1: whitespace between name and colon MUST be rejected with 400"),
    ("te-tab-before-colon", [b"Transfer-Encoding\t: chunked"], [400], ""),
    ("te-obs-fold-value", [b"Transfer-Encoding:", b" chunked"], [400], ""),
    ("te-obs-fold-line", [b"X: y", b" Transfer-Encoding: chunked"], [400], ""),
    ("te-dup-lines", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked"], [400], ""),
    ("te-dup-chunked-then-x", [b"Transfer-Encoding: chunked", b"Transfer-Encoding: x"],
     [400], "combined 'chunked, x': chunked not final"),
    ("te-dup-x-then-chunked", [b"Transfer-Encoding: x", b"Transfer-Encoding: chunked"],
     alt([400], [501]), ""),
    ("te-and-cl", [b"Transfer-Encoding: chunked", b"Content-Length: 5"], [400],
     "TE with CL: 9112 6.1 lets a server process TE, 6.3 calls it a smuggling sign; the "
     "design (and the safe choice) is 400 + close"),
    ("cl-and-te", [b"Content-Length: 5", b"Transfer-Encoding: chunked"], [400], ""),
    ("te-and-cl-zero", [b"Transfer-Encoding: chunked", b"Content-Length: 0"], [400], ""),
    ("te-and-bad-cl", [b"Transfer-Encoding: chunked", b"Content-Length: x"], [400], ""),
]
for name, fields, expect, why in te_bad:
    case(name, "9112 6.1 / 6.3", post(*fields, body=b"5\r\nhello\r\n0\r\n\r\n") + SENT, expect,
         why=why)
case("te-http10", "9112 6.1", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
     b"Connection: keep-alive\r\n\r\n0\r\n\r\n" + SENT, [400],
     why="an HTTP/1.0 message with TE: faulty framing, close (MUST)")
case("te-http10-with-cl", "9112 6.1", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Length: 5\r\nConnection: keep-alive\r\n\r\nhello" + SENT, [400])
case("te-underscore-is-other-field", "9110 5.1",
     post(b"Transfer_Encoding: chunked", body=b"0\r\n\r\n") + SENT, [200, 400],
     why="not Transfer-Encoding: the POST has no content; '0' is then a bad request line")

# ---- 5. Classic desync payloads (CL.TE, TE.CL, TE.TE obfuscations à la smuggler.py).
# For each Transfer-Encoding mutation, two payloads on a connection the client then
# half-closes:
#   cl-wins: Content-Length covers "0\r\n\r\n" + SMUG; a chunked reading would answer SMUG.
#   te-wins: Content-Length 4 covers only the first chunk-size line; a CL reading answers
#            the GET hidden in the chunk.
# kind "te": the field is a (possibly odd-looking but) valid or invalid Transfer-Encoding
#   -> with a Content-Length present: 400, nothing else.
# kind "other": the field is not Transfer-Encoding at all -> Content-Length frames it.
TE_MUTATIONS = [
    ("plain", b"Transfer-Encoding: chunked", "te"),
    ("upper-value", b"Transfer-Encoding: CHUNKED", "te"),
    ("lower-name", b"transfer-encoding: chunked", "te"),
    ("leading-space", b"Transfer-Encoding:  chunked", "te"),
    ("no-space", b"Transfer-Encoding:chunked", "te"),
    ("tab", b"Transfer-Encoding:\tchunked", "te"),
    ("trailing-space", b"Transfer-Encoding: chunked ", "te"),
    ("xchunked", b"Transfer-Encoding: xchunked", "te"),
    ("chunked-comma-x", b"Transfer-Encoding: chunked, x", "te"),
    ("x-comma-chunked", b"Transfer-Encoding: x, chunked", "te"),
    ("quoted", b'Transfer-Encoding: "chunked"', "te"),
    ("single-quoted", b"Transfer-Encoding: 'chunked'", "te"),
    ("space-before-colon", b"Transfer-Encoding : chunked", "te"),
    ("nul-in-name", b"Transfer-Encoding\x00: chunked", "te"),
    ("vt-value", b"Transfer-Encoding:\x0bchunked", "te"),
    ("ff-value", b"Transfer-Encoding:\x0cchunked", "te"),
    ("cr-value", b"Transfer-Encoding:\rchunked", "te"),
    ("lf-before-name", b"X: y\nTransfer-Encoding: chunked", "te"),
    ("lf-in-name", b"Transfer-Encoding\n: chunked", "te"),
    ("obs-fold-value", b"Transfer-Encoding:\r\n chunked", "te"),
    ("obs-fold-line", b"X: y\r\n Transfer-Encoding: chunked", "te"),
    ("obs-fold-tab-line", b"X: y\r\n\tTransfer-Encoding: chunked", "te"),
    ("dup-second-x", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x", "te"),
    ("dup-first-x", b"Transfer-Encoding: x\r\nTransfer-Encoding: chunked", "te"),
    ("high-byte-value", b"Transfer-Encoding: chunk\xe9d", "te"),
    ("high-byte-name", b"Transfer-Encodin\xe7: chunked", "te"),
    ("underscore-name", b"Transfer_Encoding: chunked", "other"),
    ("suffix-name", b"Transfer-Encodings: chunked", "other"),
    ("prefix-name", b"X-Transfer-Encoding: chunked", "other"),
]
def te_expect(mname, kind, other):
    if kind == "other":
        return other
    if mname in ("x-comma-chunked", "dup-first-x"):  # unknown coding, then chunked
        return alt([400], [501])
    return [400]


CL_WINS_BODY = b"0\r\n\r\n" + SMUG
TE_WINS_BODY = b"%x\r\n" % len(SMUG) + SMUG + b"\r\n0\r\n\r\n"
for mname, field, kind in TE_MUTATIONS:
    case("clte-" + mname, "9112 6.1 / 6.3 / 11.2",
         post(b"Content-Length: %d" % len(CL_WINS_BODY), field, body=CL_WINS_BODY),
         te_expect(mname, kind, [200]), shut=True)
    case("tecl-" + mname, "9112 6.1 / 6.3 / 11.2",
         post(b"Content-Length: 4", field, body=TE_WINS_BODY),
         # "other": the GET after the 4 bytes is a real request for this server; the
         # leftover "\r\n0\r\n\r\n" then is an empty line and a bad request line "0".
         te_expect(mname, kind, [200, 200, 400]), shut=True)

# Every byte value at four places of the Transfer-Encoding and Content-Length field lines
# (smuggler.py's "exhaustive" mode). The expected outcome follows from the grammar alone:
#   - a tchar next to the name makes it another field name: ignored, CL frames the body;
#   - SP/HTAB before or after the value is OWS: still "chunked" / "5";
#   - anything else is an invalid field line or an unknown coding: 400.
TCHARS = set(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
for b in range(256):
    ch = bytes([b])
    tchar = b in TCHARS
    ows = b in (0x20, 0x09)
    for where, field in (("name-prefix", ch + b"Transfer-Encoding: chunked"),
                         ("name-suffix", b"Transfer-Encoding" + ch + b": chunked"),
                         ("value-prefix", b"Transfer-Encoding:" + ch + b"chunked"),
                         ("value-suffix", b"Transfer-Encoding: chunked" + ch)):
        other_name = tchar and where.startswith("name")
        case("te-byte-%s-%02x" % (where, b), "9112 5 / 6.1 / 6.3",
             post(b"Content-Length: %d" % len(CL_WINS_BODY), field, body=CL_WINS_BODY),
             [200] if other_name else [400], shut=True)
    # Content-Length alone: the body is "<<<<<" (never a request line), then SENT.
    for where, field in (("name-prefix", ch + b"Content-Length: 5"),
                         ("name-suffix", b"Content-Length" + ch + b": 5"),
                         ("value-prefix", b"Content-Length:" + ch + b"5"),
                         ("value-suffix", b"Content-Length: 5" + ch)):
        if where.startswith("value") and ch.isdigit():
            continue  # still a valid (other) number
        if tchar and where.startswith("name"):
            expect = [200, 400]  # another field: no content, "<<<<<..." is a bad request
        elif ows and where.startswith("value"):
            expect = [200, 200]
        else:
            expect = [400]
        case("cl-byte-%s-%02x" % (where, b), "9110 8.6 / 9112 5 / 6.3",
             post(field, body=b"<<<<<") + SENT, expect)

case("clcl-smuggle", "9112 6.3 (5)",
     post(b"Content-Length: 0", b"Content-Length: %d" % len(SMUG), body=SMUG), [400], shut=True)
case("clcl-smuggle-reversed", "9112 6.3 (5)",
     post(b"Content-Length: %d" % len(SMUG), b"Content-Length: 0", body=SMUG), [400], shut=True)
case("te-only-mutations-without-cl", "9112 6.3 (4)",
     post(b"Transfer-Encoding: chunked, x", body=TE_WINS_BODY), [400], shut=True,
     why="chunked not final in a request: 400 (MUST), not read-until-close")

# ---- 6. Chunk lines, chunk data, trailers (RFC 9112 7.1).
chunk_bad = [
    # (name, raw chunked body, accepted, why)
    ("chunk-size-tab-before-crlf", b"5\t\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-vt", b"5\x0b\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-underscore", b"1_0\r\n" + b"x" * 16 + b"\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-0x-prefix", b"0x5\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-nonhex", b"g\r\nx\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-neg-zero", b"5\r\nhello\r\n-0\r\n\r\n", [400], ""),
    ("chunk-size-u64-ffff", b"ffffffffffffffff\r\nx\r\n0\r\n\r\n", alt([400], [413]), ""),
    ("chunk-size-wrap-to-5", b"10000000000000005\r\nhello\r\n0\r\n\r\n", alt([400], [413]),
     "a 64-bit wrap would read 5"),
    ("chunk-size-many-leading-zeros", b"0" * 30 + b"5\r\nhello\r\n0\r\n\r\n",
     alt([200, 200], [400]), "valid hex; bounding the digits is allowed"),
    ("chunk-size-missing", b"\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-cr-cr-lf", b"5\r\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-bare-cr", b"5\rhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-nul", b"5\x00\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-size-over-limit", b"6400001\r\n", [413], "design: max_body_size 100 MiB"),
    ("chunk-ext-empty-name", b"5;\r\nhello\r\n0\r\n\r\n", [400], "chunk-ext-name = token"),
    ("chunk-ext-eq-no-name", b"5;=x\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-empty-value", b"5;a=\r\nhello\r\n0\r\n\r\n", [400], "value = token/quoted"),
    ("chunk-ext-unterminated-quote", b'5;a="b\r\nhello\r\n0\r\n\r\n', [400], ""),
    ("chunk-ext-ctl", b"5;a=\x01\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-del", b"5;a\x7f\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-high-byte-token", b"5;a=\xff\r\nhello\r\n0\r\n\r\n", [400],
     "obs-text only inside a quoted-string"),
    ("chunk-ext-bare-cr", b"5;a=b\rc\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-bare-lf", b"5;a=b\nc\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-nul", b"5;a=b\x00\r\nhello\r\n0\r\n\r\n", [400], ""),
    ("chunk-ext-quoted-bare-lf", b'5;a="b\nc"\r\nhello\r\n0\r\n\r\n', [400], ""),
    ("chunk-ext-quoted-nul", b'5;a="b\x00c"\r\nhello\r\n0\r\n\r\n', [400], ""),
    ("chunk-ext-too-long", b"5;a=" + b"b" * 70000 + b"\r\nhello\r\n0\r\n\r\n",
     alt([400], [413], [431]), "9112 7.1.1: limit extensions, answer 4xx"),
    ("chunk-data-short", b"5\r\nabc\r\n0\r\n\r\n", [400],
     "5 bytes 'abc\\r\\n' then '0\\r' instead of CRLF"),
    ("chunk-data-long", b"2\r\nabcd\r\n0\r\n\r\n", [400], ""),
    ("chunk-data-lf-only", b"5\r\nhello\n0\r\n\r\n", [400], ""),
    ("chunk-data-cr-only", b"5\r\nhello\r0\r\n\r\n", [400], ""),
    ("chunk-data-no-crlf", b"5\r\nhello0\r\n\r\n", [400], ""),
    ("chunk-data-lf-cr", b"5\r\nhello\n\r0\r\n\r\n", [400], ""),
    ("last-chunk-bare-lf", b"0\n\n", [400], ""),
    ("last-chunk-lf-then-crlf", b"0\n\r\n", [400], ""),
    ("last-chunk-no-final-crlf", b"0\r\n", [400],
     "the sentinel's request line is read as a trailer field: no colon"),
    ("trailer-obs-fold", b"0\r\nX: y\r\n z\r\n\r\n", [400], ""),
    ("trailer-space-before-colon", b"0\r\nX : y\r\n\r\n", [400], ""),
    ("trailer-no-colon", b"0\r\nXy\r\n\r\n", [400], ""),
    ("trailer-empty-name", b"0\r\n: y\r\n\r\n", [400], ""),
    ("trailer-nul", b"0\r\nX: a\x00b\r\n\r\n", [400], ""),
    ("trailer-bare-cr", b"0\r\nX: a\rb\r\n\r\n", [400], ""),
    ("trailer-bare-lf", b"0\r\nX: y\n\r\n", [400], ""),
    ("trailer-bare-lf-end", b"0\r\nX: y\r\n\n", [400], ""),
    ("trailer-leading-ws-line", b"0\r\n X: y\r\n\r\n", [400], ""),
    ("trailer-too-large", b"0\r\nX: " + b"y" * 70000 + b"\r\n\r\n", alt([400], [431]), ""),
]
for name, body, expect, why in chunk_bad:
    case(name, "9112 7.1", chunked(body), expect, why=why)
case("te-body-not-chunked", "9112 7.1", chunked(b"hello"), [400],
     why="'hello' is no chunk-size: 400, not a body read until close")
case("pipelined-mixed-bodies", "9112 6.3 / 9.3.2",
     post(b"Content-Length: 5", body=b"hello") + post(b"Transfer-Encoding: chunked",
     body=b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n") + req(close=False)
     + post(b"Content-Length: 0") + SENT, [200] * 5)
case("eof-without-request", "9112 9.6", b"", [], shut=True)
case("eof-after-empty-lines", "9112 2.2", b"\r\n\r\n", [], shut=True)
case("eof-mid-request-line", "9112 9.6", b"GET / HT", alt([], [400]), shut=True,
     why="an incomplete request: nothing to answer (a 400 would do no harm)")
case("eof-mid-headers", "9112 9.6", b"GET / HTTP/1.1\r\nHost: a\r\n", alt([], [400]),
     shut=True)
case("chunk-incomplete-eof", "9112 7.1", post(b"Transfer-Encoding: chunked",
     body=b"5\r\nhel"), alt([], [400]), shut=True)
case("chunk-smuggle-in-data-ok", "9112 7.1",
     chunked(b"%x\r\n" % len(SMUG) + SMUG + b"\r\n0\r\n\r\n"), [200, 200],
     why="a request inside chunk data is content, never a request")
case("chunk-size-too-small-smuggle", "9112 7.1",
     chunked(b"1\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n\r\n0\r\n\r\n"), [400])

# ---- 7. Request line (RFC 9112 3).
rl_bad = [
    ("rl-tab-separators", b"GET\t/\tHTTP/1.1", [400]),
    ("rl-tab-after-method", b"GET\t/ HTTP/1.1", [400]),
    ("rl-leading-space", b" GET / HTTP/1.1", [400]),
    ("rl-trailing-space", b"GET / HTTP/1.1 ", [400]),
    ("rl-double-space-before-version", b"GET /  HTTP/1.1", [400]),
    ("rl-vt-separator", b"GET\x0b/ HTTP/1.1", [400]),
    ("rl-ff-separator", b"GET /\x0cHTTP/1.1", [400]),
    ("rl-bare-cr-separator", b"GET\r/ HTTP/1.1", [400]),
    ("rl-cr-cr-lf", b"GET / HTTP/1.1\r", [400]),
    ("rl-no-target", b"GET  HTTP/1.1", [400]),
    ("rl-only-method", b"GET", [400]),
    ("rl-method-paren", b"G(T / HTTP/1.1", [400]),
    ("rl-method-at", b"GE@ / HTTP/1.1", [400]),
    ("rl-method-slash", b"GET/ / HTTP/1.1", [400]),
    ("rl-method-nul", b"GE\x00T / HTTP/1.1", [400]),
    ("rl-method-del", b"GE\x7fT / HTTP/1.1", [400]),
    ("rl-method-high-byte", b"G\xc9T / HTTP/1.1", [400]),
    ("rl-target-nul", b"GET /\x00 HTTP/1.1", [400]),
    ("rl-target-del", b"GET /\x7f HTTP/1.1", [400]),
    ("rl-target-bare-cr", b"GET /\r HTTP/1.1", [400]),
    ("rl-target-tab", b"GET /a\tb HTTP/1.1", [400]),
    ("rl-version-lower", b"GET / Http/1.1", [400]),
    ("rl-version-no-minor", b"GET / HTTP/1", [400]),
    ("rl-version-two-digit-minor", b"GET / HTTP/1.10", [400]),
    ("rl-version-leading-zero", b"GET / HTTP/01.1", [400]),
    ("rl-version-comma", b"GET / HTTP/1,1", [400]),
    ("rl-version-trailing-junk", b"GET / HTTP/1.1x", [400]),
    ("rl-version-nul", b"GET / HTTP/1.1\x00", [400]),
    ("rl-version-fullwidth", "GET / HTTP/１.1".encode(), [400]),
    ("rl-http09", b"GET / HTTP/0.9", alt([505], [400])),
    ("rl-http20", b"GET / HTTP/2.0", alt([505], [400])),
    ("rl-http-9-9", b"GET / HTTP/9.9", alt([505], [400])),
    ("rl-huge-method", b"A" * 20000 + b" / HTTP/1.1", alt([400], [414], [501])),
]
for name, line, expect in rl_bad:
    case(name, "9112 3", line + b"\r\nHost: a\r\n\r\n" + SENT, expect)
case("rl-h2-preface", "9113 3.4 / 9112 3", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + SENT,
     alt([505], [400]))
case("rl-connect-origin-form", "9112 3.2.3", b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n" + SENT,
     alt([400], [405], [501]), why="CONNECT takes the authority-form only")
case("many-leading-crlf", "9112 2.2", b"\r\n" * 40000 + req(), alt([200], [400]),
     why="at least one empty line SHOULD be ignored; bounding them (400) is fine")
case("rl-nul-first-byte", "9112 3", b"\x00" + req(), [400])
case("rl-leading-bare-cr", "9112 2.2", b"\r" + req(), [400],
     why="a lone CR is not an empty line; a bare CR is invalid (or SP: leading SP, 400)")
case("rl-leading-bare-lf", "9112 2.2", b"\n" + req(), [400],
     why="bare LF policy (see top): the empty line before the request line is CRLF")
case("rl-bare-lf-terminator", "9112 2.2", b"GET / HTTP/1.1\n" + HOST + CLOSE + b"\r\n", [400],
     why="bare LF policy (see top)")
case("rl-target-high-byte", "9112 3.2 / 3986", req(b"GET /\xff HTTP/1.1"), [400],
     why="not a URI character; 9112 3: an invalid request-line SHOULD get 400")
case("rl-target-fragment", "9112 3.2.1", req(b"GET /a#b HTTP/1.1"), [400],
     why="origin-form = absolute-path [\"?\" query]: no fragment")
case("rl-target-dquote", "9112 3.2 / 3986", req(b'GET /a"b HTTP/1.1'), [400])
case("rl-target-angle", "9112 3.2 / 3986", req(b"GET /<a> HTTP/1.1"), [400])
case("rl-target-backslash", "9112 3.2 / 3986", req(b"GET /a\\b HTTP/1.1"), [400])
case("rl-target-brace", "9112 3.2 / 3986", req(b"GET /{a} HTTP/1.1"), [400])
case("rl-target-bad-pct", "9112 3.2 / 3986 2.1", req(b"GET /%zz HTTP/1.1"), [400])
case("rl-target-relative", "9112 3.2", req(b"GET a/b HTTP/1.1"), [400],
     why="neither origin-, absolute-, authority- nor asterisk-form")
case("rl-target-asterisk-get", "9112 3.2.4", req(b"GET * HTTP/1.1"), [400],
     why="asterisk-form is only for OPTIONS")
case("rl-target-authority-get", "9112 3.2.3", req(b"GET 1.2.3.4:80 HTTP/1.1"), [400],
     why="authority-form is only for CONNECT")
case("rl-absolute-userinfo", "9110 4.2.4", req(b"GET http://u:p@a/ HTTP/1.1"), [400],
     why="userinfo in an http(s) URI: a recipient SHOULD treat it as an error")
case("connect-no-tunnel-then-request", "9110 9.3.6",
     b"CONNECT a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n" + SMUG + SENT,
     alt([400], [405], [501], [405, 200, 200], [501, 200, 200], [200]),
     why="hello is no proxy: a 2xx to CONNECT means 'tunnel', after which the bytes are "
         "not HTTP; answering 200 then serving SMUG is the desync. Refusing CONNECT, or "
         "closing after a 2xx to it, are both safe")

# ---- 8. Field lines (RFC 9110 5, RFC 9112 5).
fl_bad = [
    ("fl-empty-name", b": v", [400]),
    ("fl-space-in-name", b"X Y: v", [400]),
    ("fl-tab-before-colon", b"X\t: v", [400]),
    ("fl-nul-in-name", b"X\x00Y: v", [400]),
    ("fl-del-in-name", b"X\x7f: v", [400]),
    ("fl-high-byte-name", b"X\xe9: v", [400]),
    ("fl-paren-name", b"X(Y): v", [400]),
    ("fl-slash-name", b"X/Y: v", [400]),
    ("fl-at-name", b"X@Y: v", [400]),
    ("fl-bracket-name", b"[X]: v", [400]),
    ("fl-quote-name", b'"X": v', [400]),
    ("fl-nul-value", b"X: a\x00b", [400]),
    ("fl-del-value", b"X: a\x7fb", [400]),
    ("fl-bare-cr-value", b"X: a\rb", [400]),
    ("fl-cr-cr-lf", b"X: a\r", [400]),
    ("fl-vt-value", b"X: a\x0bb", [400]),
    ("fl-esc-value", b"X: a\x1bb", [400]),
    ("fl-bare-lf-in-value", b"X: a\nY: b", [400]),
    ("fl-bare-lf-terminator", b"X: a\nConnection: close", [400]),
    ("fl-obs-fold-space", b"X: a\r\n b", [400]),
    ("fl-obs-fold-tab", b"X: a\r\n\tb", [400]),
    ("fl-ws-only-line", b"X: a\r\n   ", [400]),
    ("fl-no-colon", b"XY", [400]),
]
for name, field, expect in fl_bad:
    case(name, "9110 5.1/5.5 / 9112 5", req(b"GET / HTTP/1.1", field) + SENT, expect)
case("fl-last-field-cr-cr-lf", "9112 2.2", b"GET / HTTP/1.1\r\n" + HOST + b"Connection: close\r\r\n\r\n",
     [400], why="a bare CR right before the final CRLF CRLF: rejected like a bare CR anywhere "
     "else (replacing it by SP would also be compliant, but the server rejects bare CR "
     "everywhere else, and consistency is what prevents a desync)")
case("fl-ws-before-first-field", "9112 2.2", b"GET / HTTP/1.1\r\n X: y\r\n" + HOST + CLOSE
     + b"\r\n", [400], why="whitespace-preceded line right after the start line: reject "
     "(or ignore; rejecting is the safe one)")
case("hdr-end-crlf-lf", "9112 2.2", b"GET / HTTP/1.1\r\n" + HOST + b"\nX: y\r\n" + CLOSE
     + b"\r\n", [400],
     why="CRLF LF: an LF-tolerant peer sees the header section end here and 'X: y' as "
         "content or a next request; a CRLF-only reader must not see a field")
case("hdr-end-lf-lf", "9112 2.2", b"GET / HTTP/1.1\r\n" + HOST + CLOSE + b"\n\n"
     + SENT, [400], why="bare LF policy (see top)")
case("hdr-all-bare-lf", "9112 2.2", b"GET / HTTP/1.1\n" + HOST.replace(b"\r", b"")
     + b"Connection: close\n\n", [400], why="bare LF policy (see top)")
case("hdr-empty-line-in-middle", "9112 2.2",
     b"GET / HTTP/1.1\r\n" + HOST + b"\n\r\n" + CLOSE + b"\r\n", [400],
     why="LF + CRLF after a field: an empty line for an LF-tolerant reader")

# ---- 9. Host (RFC 9112 3.2, RFC 9110 7.2).
host_bad = [
    ("host-missing-11", [], [400]),
    ("host-dup-equal", [b"Host: a", b"Host: a"], [400]),
    ("host-dup-case", [b"Host: a", b"host: b"], [400]),
    ("host-list", [b"Host: a, b"], [400]),
    ("host-userinfo", [b"Host: u@a"], [400]),
    ("host-space", [b"Host: a b"], [400]),
    ("host-slash", [b"Host: a/b"], [400]),
    ("host-bad-port", [b"Host: a:b"], [400]),
    ("host-high-byte", [b"Host: \xe9"], [400]),
    ("host-bracket-unclosed", [b"Host: [::1"], [400]),
    ("host-question", [b"Host: a?b"], [400]),
]
for name, fields, expect in host_bad:
    case(name, "9112 3.2", req(b"GET / HTTP/1.1", *fields, host=False) + SENT, expect,
         why="a Host with an invalid value MUST get 400")

# ---- 10. Connection options (RFC 9112 9.3, 9.6).
case("conn-close-list", "9112 9.6", req(b"GET / HTTP/1.1", b"Connection: keep-alive, close",
     close=False) + SENT, [200],
     why="the 'close' option anywhere in the list: close after the response, and the "
         "server MUST NOT process any further request")
case("conn-close-list-first", "9112 9.6", req(b"GET / HTTP/1.1", b"Connection: close, foo",
     close=False) + SENT, [200])
case("conn-close-then-keepalive-lines", "9112 9.6",
     req(b"GET / HTTP/1.1", b"Connection: close", b"Connection: keep-alive", close=False)
     + SENT, [200], why="both lines are one list (9110 5.3): close is in it")
case("conn-close-ows", "9112 9.6", req(b"GET / HTTP/1.1", b"Connection: \tclose\t",
     close=False) + SENT, [200])
case("conn-close-pipelined-post", "9112 9.6",
     post(b"Connection: close", b"Content-Length: %d" % len(SMUG), body=SMUG) + SENT, [200])
case("http10-keepalive-list", "9112 9.3",
     b"GET / HTTP/1.0\r\nConnection: foo, keep-alive\r\n\r\n" + SENT, alt([200, 200], [200]),
     why="honouring 1.0 keep-alive is optional; the second request is either served or not")
case("http10-keepalive-and-close", "9112 9.6",
     b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n" + SENT, [200])

# ---- 11. Limits (design: 16 KiB request line, 64 KiB header block, 100 MiB body).
def rl_of_len(n):
    """A request line of exactly n bytes (CRLF excluded)."""
    fixed = len(b"GET / HTTP/1.1")
    return b"GET /" + b"a" * (n - fixed) + b" HTTP/1.1"


def block_of_len(n):
    """A header section of exactly n bytes (request line through the final CRLF CRLF)."""
    head = b"GET / HTTP/1.1\r\n" + HOST + CLOSE + b"X: "
    return head + b"v" * (n - len(head) - 4) + b"\r\n\r\n"


assert len(rl_of_len(16384)) == 16384 and len(block_of_len(65536)) == 65536
case("limit-request-line-16384", "design: max_request_line_size 16 KiB",
     rl_of_len(16384) + b"\r\n" + HOST + CLOSE + b"\r\n", [200],
     why="the request-line (9112 3) excludes its CRLF: exactly 16 KiB is within the limit")
case("limit-request-line-16385", "design / 9112 3", rl_of_len(16385) + b"\r\n" + HOST
     + CLOSE + b"\r\n", [414])
case("limit-request-line-unterminated", "design / 9112 3", b"GET /" + b"a" * 20000, [414])
case("limit-header-block-65536", "design: max_header_size 64 KiB", block_of_len(65536),
     [200])
case("limit-header-block-65537", "design / 6585 5", block_of_len(65537), [431])
case("limit-many-fields-431", "design / 6585 5",
     req(b"GET / HTTP/1.1", *[b"X: y"] * 20000), [431])
case("limit-header-unterminated", "design / 6585 5",
     b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"v" * 70000, [431])

case("error-while-body-still-coming", "9112 9.6 (close with unread data resets)",
     post(b"Content-Length: 300000", b"X: \x01", body=b"b" * 200000), [400],
     why="the client is still sending when the 400 is decided: closing with its bytes "
         "unread makes the kernel reset the connection and the 400 is lost; the server "
         "must stop writing and read until the client closes (lingering close)")
case("413-while-body-still-coming", "9110 15.5.14 / 9112 9.6",
     post(b"Content-Length: 200000000", body=b"b" * 200000), [413])

for i in range(10):  # a race per try: ten tries
    case("requests-after-close-%d" % i, "9112 9.6",
         [req(), req(close=False) * 100], [200],
         why="the client sends more right after a request with Connection: close; closing "
             "with those bytes unread resets the connection under the response (half of "
             "the tries lost it before the staged close)")

# ---- 12. Every byte value at one place of a line, as one case per place (a family: the
# failure lists the offending bytes).
PCHAR_ETC = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~"
                b"!$&'()*+,;=:@/?")  # RFC 3986 pchar / "/" / "?" without pct-encoded
VCHAR_ETC = set(range(0x21, 0x7f)) | set(range(0x80, 0x100)) | {0x20, 0x09}  # field value


def family(name, rfc, template, expect_of, skip=lambda b: False, why=""):
    members = [("0x%02x" % b, template(bytes([b])), expect_of(b)) for b in range(256) if not skip(b)]
    case(name, rfc, members, None, mode="family", why=why)


# Decision (httputil/README.md): "[ ] | ^" in a path (and "{ } ` \\" in a query) are sent
# unencoded by browsers (WHATWG URL); RFC 3986 forbids them and 9112 3 says SHOULD 400,
# but refusing them would refuse real browsers (`?ids[]=1`). They cannot affect framing.
BROWSER_PATH = frozenset(b"[]|^")
family("rl-target-every-byte", "9112 3.2 / 3986 3.3",
       lambda ch: req(b"GET /a" + ch + b"b HTTP/1.1"),
       lambda b: [200] if b in PCHAR_ETC or b in BROWSER_PATH else [400],
       why="origin-form: pchar, '/', '?', %HH and what browsers send unencoded; 9112 3: an "
           "invalid request-line SHOULD get 400 ('%' here is not followed by two hex digits)")
family("rl-method-every-byte", "9112 3.1 / 9110 9.1",
       lambda ch: req(b"G" + ch + b"T / HTTP/1.1"),
       lambda b: alt([200], [501]) if b in TCHARS else [400])
family("fl-name-every-byte", "9110 5.1",
       lambda ch: req(b"GET / HTTP/1.1", b"X" + ch + b"Y: v"),
       lambda b: [200] if b in TCHARS or b == ord(":") else [400])
family("fl-value-every-byte", "9110 5.5",
       lambda ch: req(b"GET / HTTP/1.1", b"X: a" + ch + b"b"),
       lambda b: [200] if b in VCHAR_ETC else [400],
       why="field-vchar, SP, HTAB and obs-text; CTLs, DEL, bare CR and bare LF: 400")
family("chunk-size-suffix-every-byte", "9112 7.1",
       lambda ch: chunked(b"5" + ch + b"\r\nhello\r\n0\r\n\r\n"),
       lambda b: [400], skip=lambda b: chr(b) in "0123456789abcdefABCDEF",
       why="after the size only ';' + extension (BWS before ';' needs a ';'); '5;' has no "
           "extension name")
family("chunk-size-prefix-every-byte", "9112 7.1",
       lambda ch: chunked(ch + b"5\r\nhello\r\n0\r\n\r\n"),
       lambda b: [400], skip=lambda b: chr(b) in "0123456789abcdefABCDEF")
family("chunk-data-end-every-byte", "9112 7.1",
       lambda ch: chunked(b"5\r\nhello" + ch + b"\r\n0\r\n\r\n"),
       lambda b: [400])
family("rl-version-every-byte", "9112 2.3",
       lambda ch: req(b"GET / HTTP/1." + ch),
       lambda b: [200] if 0x30 <= b <= 0x39 else [400])

# ---- 13. Byte-at-a-time and split deliveries (same outcome for every segmentation).
case("bytewise-chunked-ext-trailer", "9112 7.1", chunked(
     b"5;a=\"b\"\r\nhello\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n"), [200, 200], mode="bytewise")
case("bytewise-cl-post", "9112 6.2", post(b"Content-Length: 5", body=b"hello") + SENT,
     [200, 200], mode="bytewise")
case("bytewise-clte", "9112 6.3", post(b"Content-Length: 6", b"Transfer-Encoding: chunked",
     body=b"0\r\n\r\nG") + SENT, [400], mode="bytewise")
case("bytewise-leading-crlf", "9112 2.2", b"\r\n\r\n" + req(), [200], mode="bytewise")
case("bytewise-hdr-end-crlf-lf", "9112 2.2",
     b"GET / HTTP/1.1\r\n" + HOST + b"\nX: y\r\n" + CLOSE + b"\r\n", [400], mode="bytewise")
case("splits-chunked", "9112 7.1", chunked(b"5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n"),
     [200, 200], mode="splits", why="every split point of the request into two writes")
case("splits-cl-pipelined", "9112 6.2", post(b"Content-Length: 5", body=b"hello") + SENT,
     [200, 200], mode="splits")
case("splits-tecl", "9112 6.3", post(b"Content-Length: 4", b"Transfer-Encoding: chunked",
     body=TE_WINS_BODY), [400], shut=True, mode="splits")


# ---------------------------------------------------------------------------------------
# Response parsing.

def parse_responses(data, heads):
    """Splits the received bytes into responses: (statuses, problems)."""
    statuses, problems = [], []
    pos, final_index = 0, 0
    while pos < len(data):
        end = data.find(b"\r\n\r\n", pos)
        m = re.match(rb"HTTP/1\.[01] (\d\d\d)[^\r\n]*\r\n", data[pos:])
        if end < 0 or not m:
            problems.append("unparsable bytes: %r" % data[pos:pos + 80])
            break
        status = int(m.group(1))
        fields = {}
        for line in data[pos + m.end():end].split(b"\r\n"):
            if not line:
                continue
            name, _, value = line.partition(b":")
            fields.setdefault(name.strip().lower(), []).append(value.strip())
        pos = end + 4
        statuses.append(status)
        if 100 <= status < 200:
            continue
        is_head = final_index in heads
        final_index += 1
        body = b""
        if is_head or status in (204, 304):
            pass
        elif b"chunked" in b",".join(fields.get(b"transfer-encoding", [])).lower():
            while True:
                eol = data.find(b"\r\n", pos)
                if eol < 0:
                    problems.append("truncated chunked response")
                    return statuses, problems
                size = int(data[pos:eol].split(b";")[0], 16)
                pos = eol + 2
                if size == 0:
                    tend = data.find(b"\r\n\r\n", pos - 2)
                    pos = tend + 4 if tend >= 0 else len(data)
                    break
                body += data[pos:pos + size]
                pos += size + 2
        elif b"content-length" in fields:
            n = int(fields[b"content-length"][0])
            body = data[pos:pos + n]
            if len(body) < n:
                problems.append("truncated response body")
            pos += n
        else:
            body = data[pos:]
            pos = len(data)
        if HELLO_BODY and status == 200 and not is_head and body != HELLO_BODY:
            problems.append("200 with body %r" % body[:40])
    return statuses, problems


# ---------------------------------------------------------------------------------------
# Running.

class Server:
    def __init__(self, binary):
        self.proc = subprocess.Popen([binary, "--port=0", "--address=127.0.0.1"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self.log = []
        self.port = None
        deadline = time.monotonic() + 30
        while self.port is None:
            line = self.proc.stderr.readline()
            if not line or time.monotonic() > deadline:
                raise RuntimeError("hello did not report its port: %r" % self.log)
            self.log.append(line)
            m = re.match(rb"hello: listening on 127\.0\.0\.1:(\d+)$", line.strip())
            if m:
                self.port = int(m.group(1))
        # Keep draining stderr (the server logs every malformed request).
        self.drainer = threading.Thread(target=self._drain, daemon=True)
        self.drainer.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Existing:
    """A server already listening on 127.0.0.1:port (bodies are not checked)."""

    def __init__(self, port):
        global HELLO_BODY
        HELLO_BODY = None
        self.port = port
        self.proc = subprocess.Popen(["sleep", "100000"])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class Exchange:
    """One connection: sends the steps, reads until close (or IDLE_TIMEOUT)."""

    def __init__(self, port, heads):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.data = b""
        self.closed = False
        self.reset = False
        self.heads = heads

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.reset = True

    def read_some(self, deadline):
        """One recv; False once the peer closed or the idle timeout expired."""
        self.sock.settimeout(max(0.01, min(IDLE_TIMEOUT, deadline - time.monotonic())))
        try:
            got = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            self.reset = True
            self.closed = True
            return False
        if not got:
            self.closed = True
            return False
        self.data += got
        return True

    def wait_responses(self, n):
        deadline = time.monotonic() + TOTAL_TIMEOUT
        while len(parse_responses(self.data, self.heads)[0]) < n:
            if self.closed or not self.read_some(deadline):
                return

    def finish(self, shut):
        if shut and not self.closed:
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        deadline = time.monotonic() + TOTAL_TIMEOUT
        while not self.closed and time.monotonic() < deadline:
            if not self.read_some(deadline):
                break
        self.sock.close()


def run_once(port, c, pieces):
    ex = Exchange(port, c.heads)
    for p in pieces:
        if isinstance(p, int):
            ex.wait_responses(p)
        else:
            ex.send(p)
    ex.finish(c.shut)
    statuses, problems = parse_responses(ex.data, c.heads)
    c.got = (statuses, ex.reset)
    return statuses, problems, ex


def check(c, statuses, problems, ex):
    accepted = c.expect if isinstance(c.expect, tuple) else (c.expect,)
    errors = list(problems)
    if statuses not in [list(a) for a in accepted]:
        errors.append("statuses %s, expected %s" % (
            statuses, " or ".join(str(list(a)) for a in accepted)))
    if not ex.closed:
        errors.append("connection left open (no close within %.0f s)" % IDLE_TIMEOUT)
    if ex.reset:
        errors.append("connection reset (a reset can destroy responses not yet read)")
    return errors


def flat(send):
    if send and isinstance(send, list) and isinstance(send[0], tuple):  # a family
        return b"(%d requests, e.g.) " % len(send) + send[0][1]
    return b"".join(p for p in (send if isinstance(send, list) else [send])
                    if not isinstance(p, int))


def ranges(labels):
    """["0x80", "0x81", "0x82", "0x90"] -> ["0x80-0x82", "0x90"]."""
    out, nums = [], [int(x, 16) for x in labels]
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(labels[i] if i == j else "%s-%s" % (labels[i], labels[j]))
        i = j + 1
    return out


def run_case(port, c):
    if c.mode == "family":
        # c.send: (label, bytes, expect) members, each on its own connection.
        by_error = {}  # the same error for many bytes is reported once, with the bytes
        for label, data, expect in c.send:
            member = Case(c.name, c.rfc, data, expect, shut=c.shut)
            for e in check(member, *run_once(port, member, [data])):
                by_error.setdefault(e, []).append(label)
        return ["%s: %s" % (" ".join(ranges(labels)), e) for e, labels in by_error.items()], \
            len(c.send)
    steps = c.send if isinstance(c.send, list) else [c.send]
    if c.mode == "once":
        return check(c, *run_once(port, c, steps)), 1
    data = flat(c.send)
    if c.mode == "bytewise":
        return check(c, *run_once(port, c, [data[i:i + 1] for i in range(len(data))])), 1
    # splits: every two-write segmentation.
    for i in range(1, len(data)):
        errors = check(c, *run_once(port, c, [data[:i], data[i:]]))
        if errors:
            return ["split at %d: %s" % (i, e) for e in errors], i
    return [], len(data) - 1


def main(argv):
    binary = argv[1] if len(argv) > 1 and not argv[1].startswith("-") else "bazel-bin/demos/hello/hello"
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    verbose = "-v" in argv
    names = [c.name for c in CASES]
    dups = {n for n in names if names.count(n) > 1}
    assert not dups, dups
    if "--connect" in argv:  # cross-checking another server (nginx, an h11 server)
        server = Existing(int(argv[argv.index("--connect") + 1]))
    else:
        server = Server(binary)
    failed = []
    exchanges = 0
    try:
        for c in CASES:
            if only and only not in c.name:
                continue
            errors, n = run_case(server.port, c)
            exchanges += n
            if server.proc.poll() is not None:
                errors.append("server exited with %s" % server.proc.returncode)
            if errors:
                failed.append(c)
                print("FAIL %-40s [RFC %s]" % (c.name, c.rfc))
                for e in errors:
                    print("     " + e)
                sent = flat(c.send)
                print("     sent %r%s" % (sent[:200], "..." if len(sent) > 200 else ""))
                if c.why:
                    print("     why: " + c.why)
                if server.proc.poll() is not None:
                    break
            elif verbose:
                got = getattr(c, "got", ("(%d members)" % len(c.send), False))
                print("ok   %-40s %s%s" % (c.name, got[0], " (reset)" if got[1] else ""))
    finally:
        server.stop()
    # A sanitizer build (--config=asan/tsan/ubsan) reports on the server's stderr.
    reports = [l for l in getattr(server, "log", []) if b"Sanitizer" in l or b"runtime error:" in l]
    if reports:
        print("server sanitizer report:\n" + b"".join(server.log).decode(errors="replace")[-4000:])
        failed.append(Case("sanitizer", "-", b"", []))
    ran = sum(1 for c in CASES if not only or only in c.name)
    print("%d cases (%d connections), %d failed" % (ran, exchanges, len(failed)))
    if failed:
        print("failing: " + " ".join(c.name for c in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
