/*  test_crypto.c -- signatures, ids and text forms (crypto/ld_crypto.h).

    Ed25519 is checked against the test vectors of RFC 8032 section 7.1:
    the public key derived from the seed, the signature byte for byte, and
    verification, followed by refusals of anything modified. Ids are
    BLAKE2b-256, checked against the reference digests. The text forms are
    the only way keys and ids are printed or accepted, so their refusals
    are tested one by one.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "ld_crypto.h"
#include "ld_identity.h"

//  Longest message of the vectors below (TEST 1024 signs 1023 bytes).
#define S_MESSAGE_MAX 1024

typedef struct {
    const char *name;
    const char *seed;      //  hex, RFC 8032 "SECRET KEY"
    const char *key;       //  hex, "PUBLIC KEY"
    const char *message;   //  hex, "MESSAGE"
    const char *signature; //  hex, "SIGNATURE"
} s_vector_t;

//  RFC 8032 section 7.1, TEST 1024: a 1023-octet message.
#define S_TEST_1024_MESSAGE                                                                        \
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98"                             \
    "fa6e264bf09efe12ee50f8f54e9f77b1e355f6c50544e23fb1433ddf73be84d8"                             \
    "79de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d"                             \
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc"                             \
    "1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82d522c4fe"                             \
    "ba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e"                             \
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbef"                             \
    "efd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7"                             \
    "aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1"                             \
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2"                             \
    "d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24"                             \
    "554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270"                             \
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"                             \
    "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b07"                             \
    "07e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba"                             \
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51a"                             \
    "ddd3b75a2b1ae0784504df543af8969be3ea7082ff7fc9888c144da2af58429e"                             \
    "c96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7"                             \
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c"                             \
    "42f58c30c04aafdb038dda0847dd988dcda6f3bfd15c4b4c4525004aa06eeff8"                             \
    "ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df"                             \
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08"                             \
    "d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780fc0b16ac451649"                             \
    "de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4"                             \
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a3"                             \
    "2ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e"                             \
    "6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f"                             \
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b5"                             \
    "0d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1"                             \
    "369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d"                             \
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c"                             \
    "0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0"

static const s_vector_t s_vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    {"TEST 1024", "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
     "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e", S_TEST_1024_MESSAGE,
     "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350"
     "aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03"},
};

#define S_VECTOR_COUNT (sizeof s_vectors / sizeof s_vectors[0])

//  One vector in binary form.
typedef struct {
    uint8_t seed[LD_SEED_BYTES];
    uint8_t key[LD_KEY_BYTES];
    uint8_t message[S_MESSAGE_MAX];
    size_t message_size;
    uint8_t signature[LD_SIG_BYTES];
} s_binary_t;

static void
s_unhex (const char *hex, uint8_t *out, size_t out_max, size_t *size)
{
    size_t got = 0;
    const char *end = NULL;
    assert_int_equal (sodium_hex2bin (out, out_max, hex, strlen (hex), NULL, &got, &end), 0);
    assert_ptr_equal (end, hex + strlen (hex));
    *size = got;
}

static void
s_load (const s_vector_t *vector, s_binary_t *binary)
{
    size_t size;
    s_unhex (vector->seed, binary->seed, sizeof binary->seed, &size);
    assert_int_equal (size, LD_SEED_BYTES);
    s_unhex (vector->key, binary->key, sizeof binary->key, &size);
    assert_int_equal (size, LD_KEY_BYTES);
    s_unhex (vector->message, binary->message, sizeof binary->message, &binary->message_size);
    s_unhex (vector->signature, binary->signature, sizeof binary->signature, &size);
    assert_int_equal (size, LD_SIG_BYTES);
}

static int
s_setup (void **state)
{
    (void) state;
    return ld_crypto_init ();
}

//  Derives the key from the seed, signs the message and verifies it.
static void
s_check_vector (const s_vector_t *vector)
{
    s_binary_t v;
    s_load (vector, &v);
    ld_identity_t *identity = ld_identity_new_from_seed (v.seed);
    assert_non_null (identity);
    assert_memory_equal (ld_identity_public_key (identity), v.key, LD_KEY_BYTES);

    uint8_t signature[LD_SIG_BYTES];
    ld_identity_sign (identity, v.message, v.message_size, signature);
    assert_memory_equal (signature, v.signature, LD_SIG_BYTES);
    assert_true (ld_verify (v.key, v.message, v.message_size, v.signature));
    ld_identity_destroy (&identity);
    assert_null (identity);
}

static void
test_ed25519_matches_rfc8032_test_1 (void **state)
{
    (void) state;
    s_check_vector (&s_vectors[0]);
}

static void
test_ed25519_matches_rfc8032_test_2 (void **state)
{
    (void) state;
    s_check_vector (&s_vectors[1]);
}

static void
test_ed25519_matches_rfc8032_test_3 (void **state)
{
    (void) state;
    s_check_vector (&s_vectors[2]);
}

static void
test_ed25519_matches_rfc8032_test_1024 (void **state)
{
    (void) state;
    s_check_vector (&s_vectors[3]);
}

static void
test_ed25519_refuses_any_modified_message (void **state)
{
    (void) state;
    for (size_t i = 0; i < S_VECTOR_COUNT; i++) {
        s_binary_t v;
        s_load (&s_vectors[i], &v);
        for (size_t bit = 0; bit < v.message_size * 8; bit++) {
            v.message[bit / 8] ^= (uint8_t) (1u << (bit % 8));
            assert_false (ld_verify (v.key, v.message, v.message_size, v.signature));
            v.message[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        }
        //  One byte longer and one byte shorter (TEST 1's message is empty).
        v.message[v.message_size] = 0;
        assert_false (ld_verify (v.key, v.message, v.message_size + 1, v.signature));
        if (v.message_size > 0)
            assert_false (ld_verify (v.key, v.message, v.message_size - 1, v.signature));
        assert_true (ld_verify (v.key, v.message, v.message_size, v.signature));
    }
}

static void
test_ed25519_refuses_any_modified_signature (void **state)
{
    (void) state;
    for (size_t i = 0; i < S_VECTOR_COUNT; i++) {
        s_binary_t v;
        s_load (&s_vectors[i], &v);
        for (size_t bit = 0; bit < LD_SIG_BYTES * 8; bit++) {
            v.signature[bit / 8] ^= (uint8_t) (1u << (bit % 8));
            assert_false (ld_verify (v.key, v.message, v.message_size, v.signature));
            v.signature[bit / 8] ^= (uint8_t) (1u << (bit % 8));
        }
        assert_true (ld_verify (v.key, v.message, v.message_size, v.signature));
    }
}

static void
test_ed25519_refuses_another_key (void **state)
{
    (void) state;
    s_binary_t one, two;
    s_load (&s_vectors[0], &one);
    s_load (&s_vectors[1], &two);
    assert_false (ld_verify (one.key, two.message, two.message_size, two.signature));
}

static void
test_ed25519_refuses_identity_point_forgery (void **state)
{
    (void) state;
    //  Key and R both the neutral point, S = 0: the equation [S]B = R + [k]A
    //  holds for every message, so only a verifier that refuses small-order
    //  points stops it.
    uint8_t key[LD_KEY_BYTES] = {1};
    uint8_t signature[LD_SIG_BYTES] = {1};
    const uint8_t message[] = "any message at all";
    assert_false (ld_verify (key, message, sizeof message - 1, signature));
}

static void
test_hash_id_is_blake2b_256 (void **state)
{
    (void) state;
    uint8_t id[LD_ID_BYTES], want[LD_ID_BYTES];
    size_t size;
    ld_hash_id ((const uint8_t *) "abc", 3, id);
    s_unhex ("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319", want, sizeof want,
             &size);
    assert_memory_equal (id, want, LD_ID_BYTES);
    ld_hash_id ((const uint8_t *) "", 0, id);
    s_unhex ("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", want, sizeof want,
             &size);
    assert_memory_equal (id, want, LD_ID_BYTES);
}

static void
test_key_text_is_prefix_and_unpadded_base64url (void **state)
{
    (void) state;
    s_binary_t v;
    s_load (&s_vectors[0], &v);
    char text[LD_KEY_TEXT_BYTES];
    ld_key_to_text (v.key, text);
    assert_string_equal (text, "ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    assert_int_equal (strlen (text), LD_KEY_TEXT_BYTES - 1);
}

static void
test_id_text_is_prefix_and_unpadded_base64url (void **state)
{
    (void) state;
    uint8_t id[LD_ID_BYTES];
    ld_hash_id ((const uint8_t *) "abc", 3, id);
    char text[LD_ID_TEXT_BYTES];
    ld_id_to_text (id, text);
    assert_string_equal (text, "blake2b:vd2BPGNCOXIxce8_7phXm5SWTjuxyz5CcmLIwGjVIxk");
    assert_int_equal (strlen (text), LD_ID_TEXT_BYTES - 1);
}

static void
test_key_text_round_trips (void **state)
{
    (void) state;
    uint8_t keys[3][LD_KEY_BYTES];
    memset (keys[0], 0x00, LD_KEY_BYTES);
    memset (keys[1], 0xff, LD_KEY_BYTES);
    randombytes_buf (keys[2], LD_KEY_BYTES);
    for (size_t i = 0; i < 3; i++) {
        char text[LD_KEY_TEXT_BYTES];
        uint8_t back[LD_KEY_BYTES];
        ld_key_to_text (keys[i], text);
        assert_int_equal (ld_key_from_text (text, back), LD_OK);
        assert_memory_equal (back, keys[i], LD_KEY_BYTES);
    }
}

static void
test_id_text_round_trips (void **state)
{
    (void) state;
    uint8_t ids[3][LD_ID_BYTES];
    memset (ids[0], 0x00, LD_ID_BYTES);
    memset (ids[1], 0xff, LD_ID_BYTES);
    randombytes_buf (ids[2], LD_ID_BYTES);
    for (size_t i = 0; i < 3; i++) {
        char text[LD_ID_TEXT_BYTES];
        uint8_t back[LD_ID_BYTES];
        ld_id_to_text (ids[i], text);
        assert_int_equal (ld_id_from_text (text, back), LD_OK);
        assert_memory_equal (back, ids[i], LD_ID_BYTES);
    }
}

#define S_KEY_B64 "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
#define S_ID_B64  "vd2BPGNCOXIxce8_7phXm5SWTjuxyz5CcmLIwGjVIxk"

static void
test_key_text_requires_its_prefix (void **state)
{
    (void) state;
    uint8_t key[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text ("ed25519:" S_KEY_B64, key), LD_OK);
    assert_int_equal (ld_key_from_text (S_KEY_B64, key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("blake2b:" S_KEY_B64, key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("ED25519:" S_KEY_B64, key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("ed25519 " S_KEY_B64, key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("ed25519:", key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("", key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text (NULL, key), LD_ERR_BAD_FORMAT);
}

static void
test_id_text_requires_its_prefix (void **state)
{
    (void) state;
    uint8_t id[LD_ID_BYTES];
    assert_int_equal (ld_id_from_text ("blake2b:" S_ID_B64, id), LD_OK);
    assert_int_equal (ld_id_from_text (S_ID_B64, id), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_id_from_text ("ed25519:" S_ID_B64, id), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_id_from_text ("BLAKE2B:" S_ID_B64, id), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_id_from_text (NULL, id), LD_ERR_BAD_FORMAT);
}

static void
test_key_text_refuses_wrong_length (void **state)
{
    (void) state;
    uint8_t key[LD_KEY_BYTES];
    //  42 and 44 characters, and the padded form of standard base64.
    assert_int_equal (ld_key_from_text ("ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR", key),
                      LD_ERR_BAD_FORMAT);
    assert_int_equal (
        ld_key_from_text ("ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURoA", key),
        LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_key_from_text ("ed25519:" S_KEY_B64 "=", key), LD_ERR_BAD_FORMAT);
    assert_int_equal (ld_id_from_text ("blake2b:" S_ID_B64 "A", key), LD_ERR_BAD_FORMAT);
}

static void
test_key_text_refuses_characters_outside_base64url (void **state)
{
    (void) state;
    const char bad[] = {'+', '/', '=', '!', '.', ' ', '\t', (char) 0xe8};
    for (size_t i = 0; i < sizeof bad; i++) {
        char text[LD_KEY_TEXT_BYTES] = "ed25519:" S_KEY_B64;
        text[8 + 20] = bad[i]; //  in the middle, so trimming cannot remove it
        uint8_t key[LD_KEY_BYTES];
        assert_int_equal (ld_key_from_text (text, key), LD_ERR_BAD_FORMAT);
    }
}

static void
test_key_text_refuses_noncanonical_last_character (void **state)
{
    (void) state;
    //  43 characters carry 258 bits; the last two must be zero, or two texts
    //  would name one key. 'o' ends in 00, 'p' in 01.
    uint8_t key[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text ("ed25519:11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp", key),
                      LD_ERR_BAD_FORMAT);
}

static void
test_key_text_ignores_surrounding_whitespace (void **state)
{
    (void) state;
    uint8_t want[LD_KEY_BYTES], key[LD_KEY_BYTES];
    assert_int_equal (ld_key_from_text ("ed25519:" S_KEY_B64, want), LD_OK);
    assert_int_equal (ld_key_from_text (" \t ed25519:" S_KEY_B64 "\r\n", key), LD_OK);
    assert_memory_equal (key, want, LD_KEY_BYTES);
    assert_int_equal (ld_key_from_text ("ed25519:" S_KEY_B64 "\n", key), LD_OK);
    assert_memory_equal (key, want, LD_KEY_BYTES);
}

static void
test_id_text_ignores_surrounding_whitespace (void **state)
{
    (void) state;
    uint8_t want[LD_ID_BYTES], id[LD_ID_BYTES];
    ld_hash_id ((const uint8_t *) "abc", 3, want);
    assert_int_equal (ld_id_from_text ("\n blake2b:" S_ID_B64 " \t", id), LD_OK);
    assert_memory_equal (id, want, LD_ID_BYTES);
}

static void
test_base64_encode_is_standard_padded_base64 (void **state)
{
    (void) state;
    //  RFC 4648 section 10, plus the two characters that differ from base64url.
    const char *cases[][2] = {
        {"", ""},
        {"f", "Zg=="},
        {"fo", "Zm8="},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg=="},
        {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
        {"\xfb\xff", "+/8="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = ld_base64_encode ((const uint8_t *) cases[i][0], strlen (cases[i][0]));
        assert_non_null (text);
        assert_string_equal (text, cases[i][1]);
        free (text);
    }
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_ed25519_matches_rfc8032_test_1),
        cmocka_unit_test (test_ed25519_matches_rfc8032_test_2),
        cmocka_unit_test (test_ed25519_matches_rfc8032_test_3),
        cmocka_unit_test (test_ed25519_matches_rfc8032_test_1024),
        cmocka_unit_test (test_ed25519_refuses_any_modified_message),
        cmocka_unit_test (test_ed25519_refuses_any_modified_signature),
        cmocka_unit_test (test_ed25519_refuses_another_key),
        cmocka_unit_test (test_ed25519_refuses_identity_point_forgery),
        cmocka_unit_test (test_hash_id_is_blake2b_256),
        cmocka_unit_test (test_key_text_is_prefix_and_unpadded_base64url),
        cmocka_unit_test (test_id_text_is_prefix_and_unpadded_base64url),
        cmocka_unit_test (test_key_text_round_trips),
        cmocka_unit_test (test_id_text_round_trips),
        cmocka_unit_test (test_key_text_requires_its_prefix),
        cmocka_unit_test (test_id_text_requires_its_prefix),
        cmocka_unit_test (test_key_text_refuses_wrong_length),
        cmocka_unit_test (test_key_text_refuses_characters_outside_base64url),
        cmocka_unit_test (test_key_text_refuses_noncanonical_last_character),
        cmocka_unit_test (test_key_text_ignores_surrounding_whitespace),
        cmocka_unit_test (test_id_text_ignores_surrounding_whitespace),
        cmocka_unit_test (test_base64_encode_is_standard_padded_base64),
    };
    return cmocka_run_group_tests (tests, s_setup, NULL);
}
