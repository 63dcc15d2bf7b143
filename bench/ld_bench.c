/*  ld_bench.c -- what Liandong's hot paths cost on this machine.

    One run prints one table (bench/README.md explains every figure):
      - signs/s of events with a 512-byte note, and of the raw body bytes;
      - verifies/s on 1 and 2 threads, decode + verify and raw, and 2t/1t;
      - store appends/s at group commit sizes 1, 100 and 1000, on an empty
        store and on one already holding --rows events (1,000,000 by
        default), beside the same batches appended to two tables keyed by
        the random event id, the schemas ld_store.c chose not to use;
      - the fill time, database sizes, peak RSS, and the machine: CPU model,
        nproc, library versions, the file system the stores are on, and how
        much CPU other processes took while the figures were measured (this
        machine is shared; a busy neighbour halves a 2-thread figure).

    This file holds the options, main and the printed table; the parts are
    in ld_bench_crypto.c and ld_bench_store.c (map in ld_bench.h).

    The temporary directory (under --dir, default $TMPDIR or /tmp) is removed
    at exit, also after SIGINT or SIGTERM: those signals are blocked here and
    polled between batches (ld_bench_interrupted), so there is no handler
    and no global flag.
*/
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <sysexits.h>
#include <unistd.h>

#include "ld_bench.h"
#include "ld_crypto.h"

#define S_ROWS_DEFAULT    1000000
#define S_ROWS_MAX        100000000
#define S_EVENTS_DEFAULT  50000
#define S_EVENTS_MIN      LD_BENCH_CHUNK
#define S_EVENTS_MAX      1000000
#define S_SECONDS_DEFAULT 2.0
#define S_SECONDS_MIN     0.1
#define S_SECONDS_MAX     60.0
#define S_ERR_BYTES       512
#define S_TEXT_BYTES      256 //  a line of /proc/cpuinfo, a date, a label
#define S_NUM_BYTES       32
#define S_NFTW_FDS        8
#define S_MS_PER_S        1000.0
#define S_US_PER_S        1e6
#define S_KIB_PER_MIB     1024.0
#define S_MIB             (1024.0 * 1024.0)
#define S_GIB             (1024.0 * 1024.0 * 1024.0)
#define S_PERCENT         100.0

//  statfs magic numbers of the file systems worth naming.
#define S_EXT_MAGIC     0xEF53
#define S_XFS_MAGIC     0x58465342
#define S_BTRFS_MAGIC   0x9123683E
#define S_OVERLAY_MAGIC 0x794C7630
#define S_TMPFS_MAGIC   0x01021994

//  --------------------------------------------------------------------------
//  Machine facts

static void
s_cpu_model (char *model, size_t size)
{
    snprintf (model, size, "unknown CPU");
    FILE *file = fopen ("/proc/cpuinfo", "r");
    if (!file)
        return;
    char line[S_TEXT_BYTES];
    while (fgets (line, sizeof line, file)) {
        char *colon = strchr (line, ':');
        if (colon && strncmp (line, "model name", strlen ("model name")) == 0) {
            snprintf (model, size, "%s", colon + 1 + strspn (colon + 1, " \t"));
            model[strcspn (model, "\n")] = '\0';
            break;
        }
    }
    fclose (file);
}

static const char *
s_fs_type (const char *path, char *buf, size_t size)
{
    struct statfs fs;
    if (statfs (path, &fs) != 0)
        return "unknown file system";
    switch ((unsigned long) fs.f_type) {
        case S_EXT_MAGIC:
            return "ext4";
        case S_XFS_MAGIC:
            return "xfs";
        case S_BTRFS_MAGIC:
            return "btrfs";
        case S_OVERLAY_MAGIC:
            return "overlayfs";
        case S_TMPFS_MAGIC:
            return "tmpfs: fsync costs nothing, so the store figures are not disk figures";
        default:
            snprintf (buf, size, "file system 0x%lx", (unsigned long) fs.f_type);
            return buf;
    }
}

//  CPU seconds the whole machine and this process had spent, at a moment.
typedef struct {
    double wall, machine_busy, self_cpu;
} s_cpu_sample_t;

static s_cpu_sample_t
s_cpu_sample (void)
{
    s_cpu_sample_t sample = {.wall = ld_bench_now ()};
    FILE *file = fopen ("/proc/stat", "r");
    if (file) {
        unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
        if (fscanf (file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system,
                    &idle, &iowait, &irq, &softirq, &steal)
            == 8)
            sample.machine_busy = (double) (user + nice + system + irq + softirq + steal)
                                  / (double) sysconf (_SC_CLK_TCK);
        fclose (file);
    }
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    sample.self_cpu = (double) usage.ru_utime.tv_sec + (double) usage.ru_stime.tv_sec
                      + (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / S_US_PER_S;
    return sample;
}

//  Share of all CPUs that others (processes, kernel threads, the
//  hypervisor's steal) took between two samples.
static double
s_others_share (const s_cpu_sample_t *from, const s_cpu_sample_t *to)
{
    double capacity = (to->wall - from->wall) * (double) sysconf (_SC_NPROCESSORS_ONLN);
    double others = (to->machine_busy - from->machine_busy) - (to->self_cpu - from->self_cpu);
    return capacity > 0 && others > 0 ? others / capacity : 0;
}

//  --------------------------------------------------------------------------
//  The table

//  A number with thousands separators; the text lives until the end of the
//  full expression that called s_num (C11 temporary lifetime), so several
//  can be arguments of one printf.
typedef struct {
    char text[S_NUM_BYTES];
} s_num_t;

static s_num_t
s_num (double value)
{
    s_num_t num;
    char digits[S_NUM_BYTES];
    snprintf (digits, sizeof digits, "%.0f", value > 0 ? value : 0);
    size_t len = strlen (digits), out = 0;
    for (size_t i = 0; i < len && out + 2 < sizeof num.text; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            num.text[out++] = ',';
        num.text[out++] = digits[i];
    }
    num.text[out] = '\0';
    return num;
}

static double
s_per_second (const ld_bench_rate_t *rate)
{
    return rate->seconds > 0 ? (double) rate->events / rate->seconds : 0;
}

static double
s_ms_per_commit (const ld_bench_rate_t *rate)
{
    return rate->commits ? rate->seconds * S_MS_PER_S / (double) rate->commits : 0;
}

static double
s_ratio (double a, double b)
{
    return b > 0 ? a / b : 0;
}

static void
s_report_machine (const ld_bench_t *self)
{
    char model[S_TEXT_BYTES], fs[S_TEXT_BYTES], date[S_TEXT_BYTES];
    s_cpu_model (model, sizeof model);
    struct utsname host;
    if (uname (&host) != 0)
        memset (&host, 0, sizeof host);
    struct tm utc;
    gmtime_r (&self->started, &utc);
    strftime (date, sizeof date, "%Y-%m-%d %H:%M UTC", &utc);
    double ram = (double) sysconf (_SC_PHYS_PAGES) * (double) sysconf (_SC_PAGESIZE);

    printf ("Liandong benchmark, %s\n", date);
    printf ("  command    ld_bench --rows %llu --events %zu --seconds %g --dir %s\n",
            (unsigned long long) self->rows, self->events, self->seconds, self->parent);
    printf ("  machine    %s, nproc %ld, %.1f GiB RAM, %s %s %s\n", model,
            sysconf (_SC_NPROCESSORS_ONLN), ram / S_GIB, host.sysname, host.release, host.machine);
    printf ("  libraries  SQLite %s, libsodium %s\n", sqlite3_libversion (),
            sodium_version_string ());
    printf ("  stores in  %s (%s)\n", self->parent, s_fs_type (self->parent, fs, sizeof fs));
    printf ("  others     took %.0f%% of the CPUs during the crypto runs, %.0f%% during the"
            " store runs\n",
            self->others_crypto * S_PERCENT, self->others_store * S_PERCENT);
}

static void
s_report_crypto (const ld_bench_t *self)
{
    printf ("\nCrypto per second: note of %d bytes of text, envelope %zu bytes\n",
            LD_BENCH_TEXT_BYTES, self->envelope_bytes);
    printf ("  %-46s %11s %11s %7s\n", "", "1 thread", "2 threads", "2t/1t");
    printf ("  %-46s %11s %11s %7s\n", "sign    ld_event_sign (pack, sign, decode)",
            s_num (self->sign_event).text, "-", "-");
    printf ("  %-46s %11s %11s %7s\n", "sign    ld_identity_sign of the body bytes",
            s_num (self->sign_raw).text, "-", "-");
    printf ("  %-46s %11s %11s %7.2f\n", "verify  ld_event_decode + ld_event_verify",
            s_num (self->verify_event[0]).text, s_num (self->verify_event[1]).text,
            s_ratio (self->verify_event[1], self->verify_event[0]));
    printf ("  %-46s %11s %11s %7.2f\n", "verify  ld_verify of the body bytes",
            s_num (self->verify_raw[0]).text, s_num (self->verify_raw[1]).text,
            s_ratio (self->verify_raw[1], self->verify_raw[0]));
}

static void
s_report_store (const ld_bench_t *self)
{
    char full[S_TEXT_BYTES], label[S_TEXT_BYTES];
    snprintf (full, sizeof full, "%s rows", s_num ((double) self->rows).text);
    printf ("\nStore appends: %d authors interleaved, WAL, synchronous=FULL\n", LD_BENCH_AUTHORS);
    printf ("  %-46s %22s %22s\n", "", "empty store", full);
    printf ("  %-46s %10s %11s %10s %11s\n", "events per commit", "rows/s", "ms/commit", "rows/s",
            "ms/commit");
    for (size_t g = 0; g < LD_BENCH_GROUP_COUNT; g++) {
        const ld_bench_rate_t *empty = &self->append[LD_BENCH_EMPTY][g];
        const ld_bench_rate_t *filled = &self->append[LD_BENCH_FULL][g];
        snprintf (label, sizeof label, "ld_store, %zu", ld_bench_groups[g]);
        printf ("  %-46s %10s %11.2f %10s %11.2f\n", label, s_num (s_per_second (empty)).text,
                s_ms_per_commit (empty), s_num (s_per_second (filled)).text,
                s_ms_per_commit (filled));
    }
    size_t last = LD_BENCH_GROUP_COUNT - 1;
    double store_rate = s_per_second (&self->append[LD_BENCH_FULL][last]);
    for (size_t v = 0; v < LD_BENCH_VARIANTS; v++) {
        double rate = s_per_second (&self->variant[v]);
        snprintf (label, sizeof label, "%s, %zu", ld_bench_variant_name (v), ld_bench_groups[last]);
        printf ("  %-46s %10s %11s %10s %11.2f  ld_store %.1fx\n", label, "-", "-",
                s_num (rate).text, s_ms_per_commit (&self->variant[v]), s_ratio (store_rate, rate));
    }
    printf ("  events timed: group 1 %s (empty) and %s (filled), stopping at %d or %.0f s;"
            " larger groups %s\n",
            s_num ((double) self->append[LD_BENCH_EMPTY][0].events).text,
            s_num ((double) self->append[LD_BENCH_FULL][0].events).text, LD_BENCH_SINGLE_EVENTS,
            LD_BENCH_SINGLE_SECONDS, s_num ((double) self->events).text);

    double rows = (double) self->rows;
    printf ("\nFill: %s events signed and appended %d per commit, %.1f s in all\n",
            s_num (rows).text, LD_BENCH_CHUNK, self->fill_seconds);
    printf ("  %-46s %8.1f s\n", "signing (ld_event_sign, 1 thread)", self->fill_sign);
    printf ("  %-46s %8.1f s %10s rows/s %7.0f MiB\n", "ld_store_append", self->fill_store,
            s_num (s_ratio (rows, self->fill_store)).text, (double) self->store_bytes / S_MIB);
    for (size_t v = 0; v < LD_BENCH_VARIANTS; v++)
        printf ("  %-46s %8.1f s %10s rows/s %7.0f MiB\n", ld_bench_variant_name (v),
                self->fill_variant[v], s_num (s_ratio (rows, self->fill_variant[v])).text,
                (double) self->variant_bytes[v] / S_MIB);
}

static void
s_report_footer (double seconds)
{
    struct rusage usage;
    getrusage (RUSAGE_SELF, &usage);
    printf ("\nPeak RSS %.0f MiB; whole run %.0f s\n", (double) usage.ru_maxrss / S_KIB_PER_MIB,
            seconds);
}

//  --------------------------------------------------------------------------
//  Options and main

static const struct option s_options[] = {
    {"rows", required_argument, NULL, 'r'},    {"events", required_argument, NULL, 'e'},
    {"seconds", required_argument, NULL, 's'}, {"dir", required_argument, NULL, 'd'},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
};

static void
s_usage (FILE *out)
{
    fprintf (out,
             "usage: ld_bench [--rows N] [--events N] [--seconds S] [--dir DIR]\n"
             "  --rows N     events in the pre-filled store (default %d, 0..%d)\n"
             "  --events N   events in each timed store run (default %d, %d..%d)\n"
             "  --seconds S  length of each crypto measurement (default %g, %g..%g)\n"
             "  --dir DIR    parent of the temporary store directory"
             " (default $TMPDIR, else /tmp)\n",
             S_ROWS_DEFAULT, S_ROWS_MAX, S_EVENTS_DEFAULT, S_EVENTS_MIN, S_EVENTS_MAX,
             S_SECONDS_DEFAULT, S_SECONDS_MIN, S_SECONDS_MAX);
}

//  Parses a whole decimal number within [min, max].
static bool
s_parse_whole (const char *text, uint64_t min, uint64_t max, uint64_t *value)
{
    char *end;
    errno = 0;
    unsigned long long number = strtoull (text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || errno != 0 || *end != '\0' || number < min
        || number > max)
        return false;
    *value = number;
    return true;
}

//  Parses a decimal number within [min, max].
static bool
s_parse_real (const char *text, double min, double max, double *value)
{
    char *end;
    errno = 0;
    double number = strtod (text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(number >= min && number <= max))
        return false;
    *value = number;
    return true;
}

static int
s_parse_options (ld_bench_t *self, int argc, char **argv, char *err, size_t err_size)
{
    const char *tmpdir = getenv ("TMPDIR");
    self->parent = tmpdir && *tmpdir ? tmpdir : "/tmp";
    self->rows = S_ROWS_DEFAULT;
    self->events = S_EVENTS_DEFAULT;
    self->seconds = S_SECONDS_DEFAULT;
    uint64_t value;
    int opt;
    while ((opt = getopt_long (argc, argv, "", s_options, NULL)) != -1) {
        switch (opt) {
            case 'r':
                if (!s_parse_whole (optarg, 0, S_ROWS_MAX, &self->rows))
                    return ld_bench_fail (err, err_size, "--rows wants 0..%d, not '%s'", S_ROWS_MAX,
                                          optarg);
                break;
            case 'e':
                if (!s_parse_whole (optarg, S_EVENTS_MIN, S_EVENTS_MAX, &value))
                    return ld_bench_fail (err, err_size, "--events wants %d..%d, not '%s'",
                                          S_EVENTS_MIN, S_EVENTS_MAX, optarg);
                self->events = (size_t) value;
                break;
            case 's':
                if (!s_parse_real (optarg, S_SECONDS_MIN, S_SECONDS_MAX, &self->seconds))
                    return ld_bench_fail (err, err_size, "--seconds wants %g..%g, not '%s'",
                                          S_SECONDS_MIN, S_SECONDS_MAX, optarg);
                break;
            case 'd':
                self->parent = optarg;
                break;
            case 'h':
                s_usage (stdout);
                exit (EXIT_SUCCESS);
            default:
                s_usage (stderr);
                return ld_bench_fail (err, err_size, "unknown option");
        }
    }
    if (optind < argc)
        return ld_bench_fail (err, err_size, "unexpected argument '%s'", argv[optind]);
    return 0;
}

static int
s_remove_entry (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

int
main (int argc, char **argv)
{
    char err[S_ERR_BYTES] = "";
    ld_bench_t self = {0};
    if (s_parse_options (&self, argc, argv, err, sizeof err) != 0) {
        fprintf (stderr, "ld_bench: %s\n", err);
        return EX_USAGE;
    }
    if (ld_crypto_init () != 0) {
        fprintf (stderr, "ld_bench: cannot initialise libsodium\n");
        return EX_OSERR;
    }
    //  Blocked before any thread starts, so that every thread inherits the
    //  mask and a Ctrl-C waits for the next ld_bench_interrupted poll.
    sigset_t stop;
    sigemptyset (&stop);
    sigaddset (&stop, SIGINT);
    sigaddset (&stop, SIGTERM);
    pthread_sigmask (SIG_BLOCK, &stop, NULL);

    int n = snprintf (self.dir, sizeof self.dir, "%s/ld-bench.XXXXXX", self.parent);
    if (n < 0 || (size_t) n >= sizeof self.dir || !mkdtemp (self.dir)) {
        fprintf (stderr, "ld_bench: cannot create a directory in '%s': %s\n", self.parent,
                 n < 0 || (size_t) n >= sizeof self.dir ? "path too long" : strerror (errno));
        return EX_CANTCREAT;
    }
    fprintf (stderr, "ld_bench: stores in '%s', removed at exit\n", self.dir);

    self.started = time (NULL);
    s_cpu_sample_t start = s_cpu_sample ();
    int rc = ld_bench_crypto (&self, err, sizeof err);
    s_cpu_sample_t crypto_done = s_cpu_sample ();
    if (rc == 0)
        rc = ld_bench_store_empty (&self, err, sizeof err);
    if (rc == 0)
        rc = ld_bench_store_full (&self, err, sizeof err);
    s_cpu_sample_t store_done = s_cpu_sample ();
    nftw (self.dir, s_remove_entry, S_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
    if (rc != 0) {
        fprintf (stderr, "ld_bench: %s\n", err);
        return EXIT_FAILURE;
    }
    self.others_crypto = s_others_share (&start, &crypto_done);
    self.others_store = s_others_share (&crypto_done, &store_done);
    s_report_machine (&self);
    s_report_crypto (&self);
    s_report_store (&self);
    s_report_footer (store_done.wall - start.wall);
    return EXIT_SUCCESS;
}
