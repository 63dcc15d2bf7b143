/*  test_transport.c -- the broker's transport, through real processes on
    loopback: CurveZMQ behind our ZAP handler (docs/TRUST.md), or --open by
    name only.

    The group starts one broker with --trust and --allow-subscriber and a
    known identity (so the test knows the key to pin). Tests that need a
    broker of another kind start and stop their own. Handshake outcomes of
    the raw libzmq client come from a socket monitor; what crosses the wire
    is read by a tap (tests/ld_tap.h) between client and broker, with a
    broker started --open as the control that proves the tap can see
    plaintext.
*/
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ld_client.h"
#include "ld_proc.h"
#include "ld_tap.h"
#include "ld_test_util.h"

#define S_WAIT_MS    10000 //  readiness, one reply, one handshake verdict
#define S_SILENCE_MS 300   //  after a refused handshake: no reply may come meanwhile
#define S_OUTPUT_MAX 8192
#define S_PATH_MAX   256                         //  temp dirs are short: $TMPDIR/ld-test-XXXXXX
#define S_MARKER     "wiretap-plaintext-5dc8e1/" //  a catch-up prefix the tap looks for
#define S_HANDSHAKE_EVENTS                                                                         \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH                               \
     | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)

typedef struct {
    char dir[S_PATH_MAX];
    char broker_secret[S_PATH_MAX * 2]; //  the broker's --identity
    char root_pub[S_PATH_MAX * 2];      //  --trust
    char sub_pub[S_PATH_MAX * 2];       //  --allow-subscriber
    ld_identity_t *broker_identity, *root, *sub;
    ld_proc_t broker; //  --trust root --allow-subscriber sub
    char listen[256];
} s_fixture_t;

static void
s_save_identity (const char *dir, ld_identity_t **identity_p)
{
    char err[256];
    *identity_p = ld_identity_new ();
    assert_non_null (*identity_p);
    assert_int_equal (ld_identity_save (*identity_p, dir, false, err, sizeof err), LD_OK);
}

static int
s_group_setup (void **state)
{
    s_fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    assert_int_equal (ld_test_tempdir (fx->dir, sizeof fx->dir), 0);
    char path[S_PATH_MAX + 32];
    snprintf (path, sizeof path, "%s/broker", fx->dir);
    s_save_identity (path, &fx->broker_identity);
    snprintf (fx->broker_secret, sizeof fx->broker_secret, "%s/%s", path, LD_IDENTITY_SECRET);
    snprintf (path, sizeof path, "%s/root", fx->dir);
    s_save_identity (path, &fx->root);
    snprintf (fx->root_pub, sizeof fx->root_pub, "%s/%s", path, LD_IDENTITY_PUBLIC);
    snprintf (path, sizeof path, "%s/sub", fx->dir);
    s_save_identity (path, &fx->sub);
    snprintf (fx->sub_pub, sizeof fx->sub_pub, "%s/%s", path, LD_IDENTITY_PUBLIC);

    snprintf (path, sizeof path, "%s/data", fx->dir);
    const char *argv[] = {"broker",
                          "--data",
                          path,
                          "--listen",
                          "tcp://127.0.0.1:*",
                          "--identity",
                          fx->broker_secret,
                          "--trust",
                          fx->root_pub,
                          "--allow-subscriber",
                          fx->sub_pub,
                          NULL};
    assert_int_equal (ld_proc_start (&fx->broker, argv, true, S_WAIT_MS), 0);
    assert_int_equal (ld_proc_endpoint (&fx->broker, "listen", fx->listen, sizeof fx->listen), 0);
    *state = fx;
    return 0;
}

static int
s_group_teardown (void **state)
{
    s_fixture_t *fx = *state;
    ld_proc_stop (&fx->broker);
    ld_identity_destroy (&fx->broker_identity);
    ld_identity_destroy (&fx->root);
    ld_identity_destroy (&fx->sub);
    ld_test_remove_tree (fx->dir);
    free (fx);
    return 0;
}

static const uint8_t *
s_broker_key (s_fixture_t *fx)
{
    return ld_identity_public_key (fx->broker_identity);
}

//  Starts `liandong broker --open` on a fresh data dir; its stderr goes to
//  stderr_path if given (the warning is printed before the ready line).
static void
s_start_open_broker (s_fixture_t *fx, ld_proc_t *proc, const char *name, const char *stderr_path,
                     char *listen, size_t listen_size)
{
    char data[S_PATH_MAX + 32];
    snprintf (data, sizeof data, "%s/%s", fx->dir, name);
    const char *argv[] = {"broker", "--data", data, "--listen", "tcp://127.0.0.1:*",
                          "--open", NULL};
    int saved = -1;
    if (stderr_path) {
        int fd = open (stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true (fd >= 0);
        fflush (stderr);
        saved = dup (STDERR_FILENO);
        dup2 (fd, STDERR_FILENO); //  the child inherits it
        close (fd);
    }
    int rc = ld_proc_start (proc, argv, true, S_WAIT_MS);
    if (saved >= 0) {
        dup2 (saved, STDERR_FILENO);
        close (saved);
    }
    assert_int_equal (rc, 0);
    assert_int_equal (ld_proc_endpoint (proc, "listen", listen, listen_size), 0);
}

//  --------------------------------------------------------------------------
//  Start-up: openness must be asked for; CURVE without ZAP is refused

static void
test_broker_without_trust_or_open_exits_64 (void **state)
{
    s_fixture_t *fx = *state;
    char data[S_PATH_MAX + 32], err[S_OUTPUT_MAX];
    snprintf (data, sizeof data, "%s/neither", fx->dir);
    const char *argv[] = {"broker", "--data", data, "--listen", "tcp://127.0.0.1:*", NULL};
    assert_int_equal (ld_test_run (argv, NULL, 0, err, sizeof err), 64);
    assert_non_null (strstr (err, "--trust"));
    assert_non_null (strstr (err, "--open"));
}

static void
test_broker_with_open_and_trust_is_a_usage_error (void **state)
{
    s_fixture_t *fx = *state;
    char data[S_PATH_MAX + 32], err[S_OUTPUT_MAX];
    snprintf (data, sizeof data, "%s/both", fx->dir);
    const char *argv[] = {"broker", "--data",  data,         "--listen", "tcp://127.0.0.1:*",
                          "--open", "--trust", fx->root_pub, NULL};
    assert_int_equal (ld_test_run (argv, NULL, 0, err, sizeof err), 64);
    assert_non_null (strstr (err, "cannot be combined"));
}

static void
test_open_broker_warns_loudly_on_stderr (void **state)
{
    s_fixture_t *fx = *state;
    char err_path[S_PATH_MAX + 32], listen[256], text[S_OUTPUT_MAX];
    snprintf (err_path, sizeof err_path, "%s/open.stderr", fx->dir);
    ld_proc_t open_broker;
    s_start_open_broker (fx, &open_broker, "open-warning", err_path, listen, sizeof listen);
    ssize_t size = ld_test_read_file (err_path, text, sizeof text);
    ld_proc_stop (&open_broker);
    assert_true (size > 0);
    assert_non_null (strstr (text, "WARNING"));
    assert_non_null (strstr (text, "NO AUTHENTICATION AND NO ENCRYPTION"));
    assert_non_null (strstr (text, "development only"));
}

static void
test_broker_without_zap_handler_refuses_to_serve (void **state)
{
    s_fixture_t *fx = *state;
    char data[S_PATH_MAX + 32], err[S_OUTPUT_MAX];
    snprintf (data, sizeof data, "%s/no-zap", fx->dir);
    const char *argv[] = {"broker",  "--data",     data, "--listen", "tcp://127.0.0.1:*",
                          "--trust", fx->root_pub, NULL};
    //  The control is the group's broker: the same flags, with the handler,
    //  serve.
    setenv ("LD_TEST_NO_ZAP", "1", 1);
    int rc = ld_test_run (argv, NULL, 0, err, sizeof err);
    unsetenv ("LD_TEST_NO_ZAP");
    assert_int_not_equal (rc, 0);
    assert_non_null (strstr (err, "ZAP handler not running: refusing to serve"));
}

//  --------------------------------------------------------------------------
//  Who may connect, who may ask what

static void
test_allowed_subscriber_completes_hello_over_curve (void **state)
{
    s_fixture_t *fx = *state;
    ld_client_t *client = ld_client_new_curve (fx->listen, fx->sub, s_broker_key (fx));
    assert_non_null (client);
    assert_int_equal (ld_client_hello (client, S_WAIT_MS), 0);
    assert_memory_equal (client->broker_key, s_broker_key (fx), LD_KEY_BYTES);
    assert_true (client->live[0] != '\0');
    ld_client_destroy (&client);
}

//  A raw libzmq CURVE client (not czmq, not our factory) with the given
//  Curve25519 pair sends one request; returns the first handshake event and
//  in *replied whether anything came back.
static unsigned
s_raw_client (s_fixture_t *fx, const uint8_t public_key[32], const uint8_t secret_key[32],
              bool *replied)
{
    uint8_t server_key[LD_KEY_BYTES];
    assert_int_equal (ld_curve_public_from_key (s_broker_key (fx), server_key), LD_OK);
    void *context = zmq_ctx_new ();
    assert_non_null (context);
    void *dealer = zmq_socket (context, ZMQ_DEALER);
    void *monitor = zmq_socket (context, ZMQ_PAIR);
    assert_non_null (dealer);
    assert_non_null (monitor);
    int zero = 0, timeout = S_WAIT_MS;
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (monitor, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt (monitor, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    assert_int_equal (zmq_setsockopt (dealer, ZMQ_CURVE_SERVERKEY, server_key, 32), 0);
    assert_int_equal (zmq_setsockopt (dealer, ZMQ_CURVE_PUBLICKEY, public_key, 32), 0);
    assert_int_equal (zmq_setsockopt (dealer, ZMQ_CURVE_SECRETKEY, secret_key, 32), 0);
    assert_int_equal (
        zmq_socket_monitor (dealer, "inproc://test-transport-raw", S_HANDSHAKE_EVENTS), 0);
    assert_int_equal (zmq_connect (monitor, "inproc://test-transport-raw"), 0);
    assert_int_equal (zmq_connect (dealer, fx->listen), 0);
    assert_int_equal (zmq_send (dealer, "not even a request", 18, 0), 18);

    uint8_t head[6] = {0};
    unsigned event = 0;
    if (zmq_recv (monitor, head, sizeof head, 0) == (int) sizeof head) {
        uint16_t value;
        memcpy (&value, head, sizeof value);
        event = value;
    }
    //  whatever the verdict, a (malformed-request) reply can only come from
    //  an admitted connection
    zmq_pollitem_t item = {dealer, 0, ZMQ_POLLIN, 0};
    int wait = event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED ? S_WAIT_MS : S_SILENCE_MS;
    *replied = zmq_poll (&item, 1, wait) == 1;
    zmq_socket_monitor (dealer, NULL, 0);
    zmq_close (monitor);
    zmq_close (dealer);
    zmq_ctx_term (context);
    return event;
}

static void
test_uncertified_key_cannot_complete_the_handshake (void **state)
{
    s_fixture_t *fx = *state;
    uint8_t public_key[32], secret_key[32];
    crypto_box_keypair (public_key, secret_key);
    bool replied = true;
    assert_int_equal (s_raw_client (fx, public_key, secret_key, &replied),
                      ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
    assert_false (replied);

    //  control: the same raw client with an allowed key is admitted and
    //  answered (the broker refuses the junk, but it answers)
    ld_curve_t *curve = ld_curve_new (fx->sub);
    assert_int_equal (s_raw_client (fx, ld_curve_public (curve), ld_curve_secret (curve), &replied),
                      ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
    assert_true (replied);
    ld_curve_destroy (&curve);
}

static void
test_allowed_subscriber_may_not_publish (void **state)
{
    s_fixture_t *fx = *state;
    ld_client_t *client = ld_client_new_curve (fx->listen, fx->sub, s_broker_key (fx));
    assert_non_null (client);
    assert_int_equal (ld_client_hello (client, S_WAIT_MS), 0);
    ld_client_author_t *author = ld_client_author_new (0x51);
    ld_event_t *event = ld_client_author_next (author, "note/transport/", "not mine to say");
    assert_non_null (event);
    assert_int_equal (ld_client_publish (client, &event, 1, S_WAIT_MS, NULL, 0), -1);
    assert_string_equal (client->error_status, "unauthorized");
    assert_non_null (strstr (client->error_reason, "may not publish"));
    ld_event_destroy (&event);
    ld_client_author_destroy (&author);
    ld_client_destroy (&client);
}

//  --------------------------------------------------------------------------
//  What an eavesdropper sees

//  A Catchup for S_MARKER through a tap in front of listen; returns the tap
//  (the caller reads and destroys it) once the broker has answered.
static ld_tap_t *
s_catchup_through_tap (const char *listen, ld_identity_t *identity, const uint8_t *broker_key)
{
    ld_tap_t *tap = ld_tap_new (listen);
    assert_non_null (tap);
    ld_client_t *client = ld_client_new_curve (ld_tap_endpoint (tap), identity, broker_key);
    assert_non_null (client);
    assert_int_equal (ld_client_hello (client, S_WAIT_MS), 0);
    ld_client_stored_t *stored = NULL;
    size_t count = 0;
    assert_int_equal (ld_client_catchup_all (client, 0, S_MARKER, S_WAIT_MS, &stored, &count, NULL),
                      0);
    ld_client_stored_free (&stored, count);
    ld_client_destroy (&client);
    return tap;
}

static void
test_curve_hides_the_request_from_the_wire (void **state)
{
    s_fixture_t *fx = *state;
    ld_tap_t *tap = s_catchup_through_tap (fx->listen, fx->sub, s_broker_key (fx));
    assert_true (ld_tap_captured (tap) > 0); //  the exchange went through the tap
    assert_false (ld_tap_contains (tap, S_MARKER, strlen (S_MARKER)));
    ld_tap_destroy (&tap);
}

static void
test_open_broker_shows_the_request_on_the_wire (void **state)
{
    //  The control: the tap does see plaintext when there is some.
    s_fixture_t *fx = *state;
    char listen[256];
    ld_proc_t open_broker;
    s_start_open_broker (fx, &open_broker, "open-tap", NULL, listen, sizeof listen);
    ld_tap_t *tap = s_catchup_through_tap (listen, NULL, NULL);
    bool seen = ld_tap_contains (tap, S_MARKER, strlen (S_MARKER));
    ld_tap_destroy (&tap);
    ld_proc_stop (&open_broker);
    assert_true (seen);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_broker_without_trust_or_open_exits_64),
        cmocka_unit_test (test_broker_with_open_and_trust_is_a_usage_error),
        cmocka_unit_test (test_open_broker_warns_loudly_on_stderr),
        cmocka_unit_test (test_broker_without_zap_handler_refuses_to_serve),
        cmocka_unit_test (test_allowed_subscriber_completes_hello_over_curve),
        cmocka_unit_test (test_uncertified_key_cannot_complete_the_handshake),
        cmocka_unit_test (test_allowed_subscriber_may_not_publish),
        cmocka_unit_test (test_curve_hides_the_request_from_the_wire),
        cmocka_unit_test (test_open_broker_shows_the_request_on_the_wire),
    };
    return cmocka_run_group_tests (tests, s_group_setup, s_group_teardown);
}
