"""The kinds of failed request (``client.Failed.kind``), apart from the client so that the retry
policy can be made, and the chat drawn, before the client and its SDK are loaded."""

AUTH = "auth"
NOT_FOUND = "not_found"
CONTEXT_LENGTH = "context_length"
BAD_REQUEST = "bad_request"
RATE_LIMITED = "rate_limited"
SERVER = "server"
CONNECTION = "connection"
TIMEOUT = "timeout"
CUT_OFF = "cut_off"
MALFORMED = "malformed"
UNKNOWN = "unknown"
