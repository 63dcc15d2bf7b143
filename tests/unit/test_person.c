/*  test_person.c -- sealed persons (ld_person): details packed and decoded
    within their limits, sealed and opened under their own secret only,
    bound to their commitment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ld_crypto.h"
#include "ld_person.h"

typedef struct {
    ld_person_t person;
    uint8_t *bytes;
    size_t size;
    ld_person_secret_t *secret;
    uint8_t commitment[LD_COMMITMENT_BYTES];
    uint8_t *sealed;
    size_t sealed_size;
} fixture_t;

static int
setup (void **state)
{
    assert_int_equal (ld_crypto_init (), 0);
    fixture_t *fx = calloc (1, sizeof *fx);
    assert_non_null (fx);
    snprintf (fx->person.name, sizeof fx->person.name, "张三");
    snprintf (fx->person.phone, sizeof fx->person.phone, "13800000000");
    snprintf (fx->person.unit, sizeof fx->person.unit, "乌当区人民医院");
    assert_int_equal (ld_person_pack (&fx->person, &fx->bytes, &fx->size, NULL, 0), LD_OK);
    fx->secret = ld_person_secret_new ();
    assert_non_null (fx->secret);
    assert_int_equal (ld_person_seal (fx->bytes, fx->size, fx->secret, fx->commitment, &fx->sealed,
                                      &fx->sealed_size, NULL, 0),
                      LD_OK);
    *state = fx;
    return 0;
}

static int
teardown (void **state)
{
    fixture_t *fx = *state;
    ld_person_secret_destroy (&fx->secret);
    free (fx->bytes);
    free (fx->sealed);
    free (fx);
    return 0;
}

static void
test_person_opens_under_its_secret_to_the_same_details (void **state)
{
    fixture_t *fx = *state;
    ld_sealed_person_t sealed;
    assert_int_equal (ld_sealed_person_decode (fx->sealed, fx->sealed_size, &sealed, NULL, 0),
                      LD_OK);
    assert_memory_equal (sealed.commitment, fx->commitment, LD_COMMITMENT_BYTES);
    uint8_t opened[LD_PERSON_MAX];
    size_t size;
    assert_int_equal (ld_person_open (&sealed, fx->secret, opened, &size, NULL, 0), LD_OK);
    assert_int_equal (size, fx->size);
    assert_memory_equal (opened, fx->bytes, size);
    ld_person_t person;
    assert_int_equal (ld_person_decode (opened, size, &person, NULL, 0), LD_OK);
    assert_string_equal (person.name, "张三");
    assert_string_equal (person.phone, "13800000000");
    assert_string_equal (person.unit, "乌当区人民医院");
    assert_string_equal (person.note, "");
}

static void
test_person_sealed_bytes_hold_no_detail_in_clear (void **state)
{
    fixture_t *fx = *state;
    const char *details[] = {"张三", "13800000000", "乌当区人民医院"};
    for (size_t i = 0; i < 3; i++)
        assert_null (memmem (fx->sealed, fx->sealed_size, details[i], strlen (details[i])));
    //  the control: the packed details do hold them
    assert_non_null (memmem (fx->bytes, fx->size, "13800000000", 11));
}

static void
test_person_does_not_open_under_another_secret (void **state)
{
    fixture_t *fx = *state;
    ld_sealed_person_t sealed;
    assert_int_equal (ld_sealed_person_decode (fx->sealed, fx->sealed_size, &sealed, NULL, 0),
                      LD_OK);
    ld_person_secret_t *other = ld_person_secret_new ();
    uint8_t opened[LD_PERSON_MAX];
    size_t size = 99;
    assert_int_equal (ld_person_open (&sealed, other, opened, &size, NULL, 0), LD_ERR_BAD_PAYLOAD);
    assert_int_equal (size, 0);
    ld_person_secret_destroy (&other);
}

//  The commitment is the associated data: moving a sealed blob under
//  another commitment, or flipping a bit of it, does not open.
static void
test_person_is_bound_to_its_commitment (void **state)
{
    fixture_t *fx = *state;
    ld_sealed_person_t sealed;
    uint8_t opened[LD_PERSON_MAX];
    size_t size;
    assert_int_equal (ld_sealed_person_decode (fx->sealed, fx->sealed_size, &sealed, NULL, 0),
                      LD_OK);
    sealed.commitment[0] ^= 1;
    assert_int_equal (ld_person_open (&sealed, fx->secret, opened, &size, NULL, 0),
                      LD_ERR_BAD_PAYLOAD);
    sealed.commitment[0] ^= 1;
    sealed.sealed[sealed.sealed_size - 1] ^= 1;
    assert_int_equal (ld_person_open (&sealed, fx->secret, opened, &size, NULL, 0),
                      LD_ERR_BAD_PAYLOAD);
}

//  Sealing the same details twice gives other commitments (other salts)
//  and other nonces: equal details are not linkable.
static void
test_person_sealed_twice_is_not_linkable (void **state)
{
    fixture_t *fx = *state;
    ld_person_secret_t *secret = ld_person_secret_new ();
    uint8_t commitment[LD_COMMITMENT_BYTES];
    uint8_t *sealed;
    size_t sealed_size;
    assert_int_equal (
        ld_person_seal (fx->bytes, fx->size, secret, commitment, &sealed, &sealed_size, NULL, 0),
        LD_OK);
    assert_memory_not_equal (commitment, fx->commitment, LD_COMMITMENT_BYTES);
    free (sealed);
    ld_person_secret_destroy (&secret);
}

static void
test_person_refuses_details_without_a_name_or_past_limits (void **state)
{
    (void) state;
    ld_person_t person = {0};
    uint8_t *bytes = NULL;
    size_t size;
    char err[128];
    assert_int_equal (ld_person_pack (&person, &bytes, &size, err, sizeof err), LD_ERR_BAD_PAYLOAD);
    snprintf (person.name, sizeof person.name, "\xff\xfe");
    assert_int_equal (ld_person_pack (&person, &bytes, &size, err, sizeof err), LD_ERR_BAD_UTF8);
    snprintf (person.name, sizeof person.name, "张三");
    memset (person.note, 'x', LD_PERSON_MAX);
    assert_int_equal (ld_person_pack (&person, &bytes, &size, err, sizeof err),
                      LD_ERR_STRING_TOO_LONG);
    assert_null (bytes);
    //  garbage is not a person, and not something to seal
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    ld_person_secret_t *secret = ld_person_secret_new ();
    uint8_t commitment[LD_COMMITMENT_BYTES], *sealed = NULL;
    assert_int_not_equal (ld_person_seal (garbage, sizeof garbage, secret, commitment, &sealed,
                                          &size, err, sizeof err),
                          LD_OK);
    assert_null (sealed);
    ld_person_secret_destroy (&secret);
}

static void
test_person_refuses_a_sealed_person_of_wrong_sizes (void **state)
{
    fixture_t *fx = *state;
    ld_sealed_person_t sealed;
    //  truncated: a field cut short
    assert_int_not_equal (
        ld_sealed_person_decode (fx->sealed, fx->sealed_size - 1, &sealed, NULL, 0), LD_OK);
    //  a 31-byte commitment (field 1, length 31)
    uint8_t short_commitment[64] = {0x0a, 31};
    short_commitment[33] = 0x12;
    short_commitment[34] = 24;
    short_commitment[59] = 0x1a;
    short_commitment[60] = 2;
    assert_int_not_equal (ld_sealed_person_decode (short_commitment, 63, &sealed, NULL, 0), LD_OK);
}

static void
test_person_sealed_prints_in_the_proto3_mapping (void **state)
{
    fixture_t *fx = *state;
    json_t *json = ld_sealed_person_to_json (fx->sealed, fx->sealed_size);
    assert_non_null (json);
    assert_true (json_is_string (json_object_get (json, "commitment")));
    assert_true (json_is_string (json_object_get (json, "nonce")));
    assert_true (json_is_string (json_object_get (json, "sealed")));
    json_decref (json);
    assert_null (ld_sealed_person_to_json (fx->sealed, 3));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_person_opens_under_its_secret_to_the_same_details,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_person_sealed_bytes_hold_no_detail_in_clear, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_person_does_not_open_under_another_secret, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_person_is_bound_to_its_commitment, setup, teardown),
        cmocka_unit_test_setup_teardown (test_person_sealed_twice_is_not_linkable, setup, teardown),
        cmocka_unit_test_setup_teardown (test_person_refuses_details_without_a_name_or_past_limits,
                                         setup, teardown),
        cmocka_unit_test_setup_teardown (test_person_refuses_a_sealed_person_of_wrong_sizes, setup,
                                         teardown),
        cmocka_unit_test_setup_teardown (test_person_sealed_prints_in_the_proto3_mapping, setup,
                                         teardown),
    };
    return cmocka_run_group_tests_name ("person", tests, NULL, NULL);
}
