/*  test_identity.c -- identities on disk (crypto/ld_identity.h) and the
    `liandong keygen` command that writes them.

    Each test gets a fresh directory under $TMPDIR, removed in teardown.
    The CLI tests run the real binary named by LD_BIN (set by ctest) and
    are skipped when it is not set.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>

#include <cmocka.h>

#include "ld_crypto.h"
#include "ld_identity.h"
#include "ld_test_util.h"

//  Big enough for any file or output these tests read.
#define S_TEXT_MAX 1024

typedef struct {
    char dir[PATH_MAX];    //  the test's temporary directory
    char keys[PATH_MAX];   //  dir/keys, where identities are saved
    char secret[PATH_MAX]; //  keys/identity.secret
    char pub[PATH_MAX];    //  keys/identity.pub
} s_fixture_t;

//  Writes "dir/name" into out; false if it does not fit.
static bool
s_path (char *out, size_t size, const char *dir, const char *name)
{
    return snprintf (out, size, "%s/%s", dir, name) < (int) size;
}

static int
s_setup (void **state)
{
    if (ld_crypto_init () != 0)
        return -1;
    s_fixture_t *self = calloc (1, sizeof *self);
    if (!self || ld_test_tempdir (self->dir, sizeof self->dir) != 0) {
        free (self);
        return -1;
    }
    if (!s_path (self->keys, sizeof self->keys, self->dir, "keys")
        || !s_path (self->secret, sizeof self->secret, self->keys, LD_IDENTITY_SECRET)
        || !s_path (self->pub, sizeof self->pub, self->keys, LD_IDENTITY_PUBLIC)) {
        ld_test_remove_tree (self->dir);
        free (self);
        return -1;
    }
    *state = self;
    return 0;
}

static int
s_teardown (void **state)
{
    s_fixture_t *self = *state;
    int rc = ld_test_remove_tree (self->dir);
    free (self);
    return rc;
}

//  Saves a fresh identity into self->keys and returns it.
static ld_identity_t *
s_saved_identity (s_fixture_t *self)
{
    ld_identity_t *identity = ld_identity_new ();
    assert_non_null (identity);
    char err[256] = "";
    assert_int_equal (ld_identity_save (identity, self->keys, false, err, sizeof err), LD_OK);
    return identity;
}

static mode_t
s_mode (const char *path)
{
    struct stat st;
    assert_int_equal (stat (path, &st), 0);
    return st.st_mode & 07777;
}

static void
s_assert_same_key (ld_identity_t *a, ld_identity_t *b)
{
    assert_memory_equal (ld_identity_public_key (a), ld_identity_public_key (b), LD_KEY_BYTES);
}

static void
test_identity_new_gives_distinct_keys (void **state)
{
    (void) state;
    ld_identity_t *a = ld_identity_new ();
    ld_identity_t *b = ld_identity_new ();
    assert_non_null (a);
    assert_non_null (b);
    assert_memory_not_equal (ld_identity_public_key (a), ld_identity_public_key (b), LD_KEY_BYTES);
    ld_identity_destroy (&a);
    ld_identity_destroy (&b);
    assert_null (a);
    ld_identity_destroy (&a); //  NULL-safe
}

static void
test_identity_save_then_load_gives_same_key_and_signatures (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *saved = s_saved_identity (self);
    ld_identity_t *loaded = NULL;
    char err[256] = "";
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err), LD_OK);
    assert_non_null (loaded);
    s_assert_same_key (saved, loaded);

    //  Ed25519 is deterministic: the same secret gives the same signature.
    const uint8_t message[] = "a note for the residents' committee";
    uint8_t sig_saved[LD_SIG_BYTES], sig_loaded[LD_SIG_BYTES];
    ld_identity_sign (saved, message, sizeof message, sig_saved);
    ld_identity_sign (loaded, message, sizeof message, sig_loaded);
    assert_memory_equal (sig_saved, sig_loaded, LD_SIG_BYTES);
    assert_true (ld_verify (ld_identity_public_key (saved), message, sizeof message, sig_loaded));
    ld_identity_destroy (&saved);
    ld_identity_destroy (&loaded);
}

static void
test_identity_save_writes_secret_with_mode_0600 (void **state)
{
    s_fixture_t *self = *state;
    mode_t old = umask (0); //  a permissive umask must not widen the mode
    ld_identity_t *identity = s_saved_identity (self);
    umask (old);
    assert_int_equal (s_mode (self->secret), 0600);
    ld_identity_destroy (&identity);
}

static void
test_identity_save_creates_directory_with_mode_0700 (void **state)
{
    s_fixture_t *self = *state;
    mode_t old = umask (022);
    ld_identity_t *identity = s_saved_identity (self);
    umask (old);
    assert_int_equal (s_mode (self->keys), 0700);
    ld_identity_destroy (&identity);
}

static void
test_identity_save_writes_public_file_in_text_form (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *identity = s_saved_identity (self);
    char text[LD_KEY_TEXT_BYTES], line[LD_KEY_TEXT_BYTES + 1], file[S_TEXT_MAX];
    ld_key_to_text (ld_identity_public_key (identity), text);
    snprintf (line, sizeof line, "%s\n", text);
    assert_true (ld_test_read_file (self->pub, file, sizeof file) > 0);
    assert_string_equal (file, line);

    uint8_t key[LD_KEY_BYTES];
    char err[256] = "";
    assert_int_equal (ld_public_key_load (self->pub, key, err, sizeof err), LD_OK);
    assert_memory_equal (key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
}

static void
test_identity_save_writes_no_secret_into_public_file (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *identity = s_saved_identity (self);
    char secret[S_TEXT_MAX], pub[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret, sizeof secret) > 0);
    assert_true (ld_test_read_file (self->pub, pub, sizeof pub) > 0);
    assert_int_equal (strncmp (secret, LD_SECRET_PREFIX, strlen (LD_SECRET_PREFIX)), 0);
    const char *seed_text = secret + strlen (LD_SECRET_PREFIX);
    assert_null (strstr (pub, seed_text));
    ld_identity_destroy (&identity);
}

static void
s_assert_load_refuses_mode (s_fixture_t *self, mode_t mode)
{
    ld_identity_t *identity = s_saved_identity (self);
    assert_int_equal (chmod (self->secret, mode), 0);
    ld_identity_t *loaded = NULL;
    char err[256] = "";
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err),
                      LD_ERR_PERMISSIONS);
    assert_null (loaded);
    assert_non_null (strstr (err, self->secret)); //  the message names the file
    ld_identity_destroy (&identity);
}

static void
test_identity_load_refuses_secret_with_mode_0644 (void **state)
{
    s_assert_load_refuses_mode (*state, 0644);
}

static void
test_identity_load_refuses_secret_with_mode_0640 (void **state)
{
    s_assert_load_refuses_mode (*state, 0640);
}

static void
test_identity_load_refuses_secret_writable_by_others (void **state)
{
    s_assert_load_refuses_mode (*state, 0602);
}

static void
test_identity_load_error_never_shows_the_secret (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *identity = s_saved_identity (self);
    char secret[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret, sizeof secret) > 0);
    secret[strcspn (secret, "\n")] = '\0';
    assert_int_equal (chmod (self->secret, 0644), 0);
    ld_identity_t *loaded = NULL;
    char err[1024] = "";
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err),
                      LD_ERR_PERMISSIONS);
    assert_null (strstr (err, secret + strlen (LD_SECRET_PREFIX)));
    ld_identity_destroy (&identity);
}

static void
test_identity_load_refuses_garbage_secret (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *identity = ld_identity_new ();
    char pub[LD_KEY_TEXT_BYTES];
    ld_key_to_text (ld_identity_public_key (identity), pub);
    char too_long[256];
    memset (too_long, 'A', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    memcpy (too_long, LD_SECRET_PREFIX, strlen (LD_SECRET_PREFIX));
    const char *garbage[] = {
        "",
        "hello, world\n",
        pub,                                                              //  a public key
        LD_SECRET_PREFIX "\n",                                            //  no seed
        LD_SECRET_PREFIX "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR\n",  //  42 chars
        LD_SECRET_PREFIX "11qYAYKxCrfVS+7TyWQHOg7hcvPapiMlrwIaaPcHURo\n", //  '+' is not base64url
        LD_SECRET_PREFIX "11qYAYKxCrfVS\xc3\xa9TyWQHOg7hcvPapiMlrwIaaPcHU\n", //  bytes >= 0x80
        "ed25519-SECRET:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\n",       //  wrong prefix
        too_long,
    };
    assert_int_equal (mkdir (self->keys, 0700), 0);
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        assert_int_equal (ld_test_write_file (self->secret, garbage[i], strlen (garbage[i]), 0600),
                          0);
        ld_identity_t *loaded = NULL;
        char err[256] = "";
        assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err),
                          LD_ERR_BAD_FORMAT);
        assert_null (loaded);
    }
    ld_identity_destroy (&identity);
}

static void
test_identity_load_reports_missing_file (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *loaded = NULL;
    char err[256] = "";
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err), LD_ERR_NOT_FOUND);
    assert_null (loaded);
    assert_non_null (strstr (err, self->secret));
}

static void
test_identity_save_refuses_to_overwrite (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *first = s_saved_identity (self);
    char secret_before[S_TEXT_MAX], pub_before[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret_before, sizeof secret_before) > 0);
    assert_true (ld_test_read_file (self->pub, pub_before, sizeof pub_before) > 0);

    ld_identity_t *second = ld_identity_new ();
    char err[256] = "";
    assert_int_equal (ld_identity_save (second, self->keys, false, err, sizeof err), LD_ERR_EXISTS);
    char secret_after[S_TEXT_MAX], pub_after[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret_after, sizeof secret_after) > 0);
    assert_true (ld_test_read_file (self->pub, pub_after, sizeof pub_after) > 0);
    assert_string_equal (secret_after, secret_before);
    assert_string_equal (pub_after, pub_before);
    ld_identity_destroy (&first);
    ld_identity_destroy (&second);
}

static void
test_identity_save_refuses_when_only_the_public_file_exists (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *first = s_saved_identity (self);
    assert_int_equal (unlink (self->secret), 0);
    ld_identity_t *second = ld_identity_new ();
    char err[256] = "";
    assert_int_equal (ld_identity_save (second, self->keys, false, err, sizeof err), LD_ERR_EXISTS);
    assert_int_equal (access (self->secret, F_OK), -1);
    ld_identity_destroy (&first);
    ld_identity_destroy (&second);
}

static void
test_identity_save_with_force_replaces (void **state)
{
    s_fixture_t *self = *state;
    ld_identity_t *first = s_saved_identity (self);
    ld_identity_t *second = ld_identity_new ();
    char err[256] = "";
    assert_int_equal (ld_identity_save (second, self->keys, true, err, sizeof err), LD_OK);

    ld_identity_t *loaded = NULL;
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err), LD_OK);
    s_assert_same_key (loaded, second);
    uint8_t key[LD_KEY_BYTES];
    assert_int_equal (ld_public_key_load (self->pub, key, err, sizeof err), LD_OK);
    assert_memory_equal (key, ld_identity_public_key (second), LD_KEY_BYTES);
    assert_int_equal (s_mode (self->secret), 0600);
    ld_identity_destroy (&first);
    ld_identity_destroy (&second);
    ld_identity_destroy (&loaded);
}

static void
test_public_key_load_accepts_the_text_form_itself (void **state)
{
    (void) state;
    ld_identity_t *identity = ld_identity_new ();
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (ld_identity_public_key (identity), text);
    uint8_t key[LD_KEY_BYTES];
    char err[256] = "";
    assert_int_equal (ld_public_key_load (text, key, err, sizeof err), LD_OK);
    assert_memory_equal (key, ld_identity_public_key (identity), LD_KEY_BYTES);
    ld_identity_destroy (&identity);
}

static void
test_public_key_load_refuses_garbage (void **state)
{
    s_fixture_t *self = *state;
    uint8_t key[LD_KEY_BYTES];
    char err[256] = "";
    assert_int_equal (ld_public_key_load ("ed25519:tooshort", key, err, sizeof err),
                      LD_ERR_BAD_FORMAT);
    assert_int_equal (mkdir (self->keys, 0700), 0);
    assert_int_equal (ld_test_write_file (self->pub, "not a key\n", 10, 0644), 0);
    assert_int_equal (ld_public_key_load (self->pub, key, err, sizeof err), LD_ERR_BAD_FORMAT);
    assert_int_equal (unlink (self->pub), 0);
    assert_int_equal (ld_public_key_load (self->pub, key, err, sizeof err), LD_ERR_NOT_FOUND);
}

//  ---- the `liandong keygen` command ----

static void
s_skip_without_binary (void)
{
    const char *bin = getenv ("LD_BIN");
    if (!bin || !*bin || access (bin, X_OK) != 0) {
        print_message ("LD_BIN is not set to the liandong binary; run under ctest\n");
        skip ();
    }
}

static void
test_keygen_prints_the_key_and_writes_both_files (void **state)
{
    s_fixture_t *self = *state;
    s_skip_without_binary ();
    char out[S_TEXT_MAX], err[S_TEXT_MAX];
    const char *args[] = {"keygen", "--out", self->keys, NULL};
    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), 0);

    //  stdout is exactly the public key line, the same line as the .pub file.
    uint8_t printed[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text (out, printed), LD_OK);
    assert_int_equal (strlen (out), LD_KEY_TEXT_BYTES); //  text and '\n'
    char pub[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->pub, pub, sizeof pub) > 0);
    assert_string_equal (pub, out);

    assert_int_equal (s_mode (self->secret), 0600);
    ld_identity_t *loaded = NULL;
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err), LD_OK);
    assert_memory_equal (ld_identity_public_key (loaded), printed, LD_KEY_BYTES);
    ld_identity_destroy (&loaded);
}

static void
test_keygen_refuses_to_overwrite (void **state)
{
    s_fixture_t *self = *state;
    s_skip_without_binary ();
    char out[S_TEXT_MAX], err[S_TEXT_MAX];
    const char *args[] = {"keygen", "--out", self->keys, NULL};
    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), 0);
    char secret_before[S_TEXT_MAX], pub_before[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret_before, sizeof secret_before) > 0);
    assert_true (ld_test_read_file (self->pub, pub_before, sizeof pub_before) > 0);

    assert_int_equal (ld_test_run (args, out, sizeof out, err, sizeof err), EX_CANTCREAT);
    assert_string_equal (out, "");                //  no key printed
    assert_non_null (strstr (err, self->secret)); //  the error names the file
    assert_non_null (strstr (err, "--force"));    //  and says how to proceed
    char secret_after[S_TEXT_MAX], pub_after[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->secret, secret_after, sizeof secret_after) > 0);
    assert_true (ld_test_read_file (self->pub, pub_after, sizeof pub_after) > 0);
    assert_string_equal (secret_after, secret_before);
    assert_string_equal (pub_after, pub_before);
}

static void
test_keygen_with_force_replaces (void **state)
{
    s_fixture_t *self = *state;
    s_skip_without_binary ();
    char first[S_TEXT_MAX], second[S_TEXT_MAX], err[S_TEXT_MAX];
    const char *args[] = {"keygen", "--out", self->keys, NULL};
    const char *force_args[] = {"keygen", "--out", self->keys, "--force", NULL};
    assert_int_equal (ld_test_run (args, first, sizeof first, err, sizeof err), 0);
    assert_int_equal (ld_test_run (force_args, second, sizeof second, err, sizeof err), 0);
    assert_string_not_equal (second, first);

    char pub[S_TEXT_MAX];
    assert_true (ld_test_read_file (self->pub, pub, sizeof pub) > 0);
    assert_string_equal (pub, second);
    uint8_t printed[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text (second, printed), LD_OK);
    ld_identity_t *loaded = NULL;
    assert_int_equal (ld_identity_load (self->secret, &loaded, err, sizeof err), LD_OK);
    assert_memory_equal (ld_identity_public_key (loaded), printed, LD_KEY_BYTES);
    ld_identity_destroy (&loaded);
}

static void
test_keygen_without_out_is_a_usage_error (void **state)
{
    (void) state;
    s_skip_without_binary ();
    const char *args[] = {"keygen", NULL};
    assert_int_equal (ld_test_run (args, NULL, 0, NULL, 0), EX_USAGE);
}

#define S_TEST(name) cmocka_unit_test_setup_teardown (name, s_setup, s_teardown)

int
main (void)
{
    const struct CMUnitTest tests[] = {
        S_TEST (test_identity_new_gives_distinct_keys),
        S_TEST (test_identity_save_then_load_gives_same_key_and_signatures),
        S_TEST (test_identity_save_writes_secret_with_mode_0600),
        S_TEST (test_identity_save_creates_directory_with_mode_0700),
        S_TEST (test_identity_save_writes_public_file_in_text_form),
        S_TEST (test_identity_save_writes_no_secret_into_public_file),
        S_TEST (test_identity_load_refuses_secret_with_mode_0644),
        S_TEST (test_identity_load_refuses_secret_with_mode_0640),
        S_TEST (test_identity_load_refuses_secret_writable_by_others),
        S_TEST (test_identity_load_error_never_shows_the_secret),
        S_TEST (test_identity_load_refuses_garbage_secret),
        S_TEST (test_identity_load_reports_missing_file),
        S_TEST (test_identity_save_refuses_to_overwrite),
        S_TEST (test_identity_save_refuses_when_only_the_public_file_exists),
        S_TEST (test_identity_save_with_force_replaces),
        S_TEST (test_public_key_load_accepts_the_text_form_itself),
        S_TEST (test_public_key_load_refuses_garbage),
        S_TEST (test_keygen_prints_the_key_and_writes_both_files),
        S_TEST (test_keygen_refuses_to_overwrite),
        S_TEST (test_keygen_with_force_replaces),
        S_TEST (test_keygen_without_out_is_a_usage_error),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
