/*  ld_faultvfs.c -- a SQLite VFS shim that fails on command, for fault tests.

    tmpfs ignores fsync and the kernel here has no dm-flakey, so storage
    faults are injected at the SQLite VFS, the system boundary of the store.
    When the environment variable LD_FAULT_FILE names a file, ld_store_open
    registers this shim as the default VFS. It forwards everything to the
    real VFS, except that before each write and each sync it reads the
    control file, which holds one word:

        fsync   every xSync fails with SQLITE_IOERR_FSYNC
        write   every xWrite fails with SQLITE_IOERR_WRITE
        full    every xWrite fails with SQLITE_FULL (a full disk)
        (empty, missing or anything else: no fault)

    Tests change the word while the daemon runs. The shim is never active
    unless the variable is set; production builds carry it but never
    register it.

    VFS registration is process-wide state in SQLite; pthread_once makes it
    happen exactly once.
*/
#include "ld_faultvfs.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { S_FAULT_NONE, S_FAULT_FSYNC, S_FAULT_WRITE, S_FAULT_FULL } s_fault_t;

//  Our file: the header SQLite sees, then the real VFS's file.
typedef struct {
    sqlite3_file base;
    sqlite3_file *real; //  points just after this struct
} s_file_t;

static sqlite3_vfs s_vfs;
static sqlite3_vfs *s_real;
static const char *s_control;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;

static s_fault_t
s_current_fault (void)
{
    int fd = open (s_control, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return S_FAULT_NONE;
    char word[16] = "";
    ssize_t got = read (fd, word, sizeof word - 1);
    close (fd);
    if (got <= 0)
        return S_FAULT_NONE;
    word[got] = '\0';
    word[strcspn (word, " \n")] = '\0';
    if (strcmp (word, "fsync") == 0)
        return S_FAULT_FSYNC;
    if (strcmp (word, "write") == 0)
        return S_FAULT_WRITE;
    if (strcmp (word, "full") == 0)
        return S_FAULT_FULL;
    return S_FAULT_NONE;
}

#define S_REAL(file) (((s_file_t *) (file))->real)

static int
s_close (sqlite3_file *file)
{
    return S_REAL (file)->pMethods->xClose (S_REAL (file));
}

static int
s_read (sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset)
{
    return S_REAL (file)->pMethods->xRead (S_REAL (file), buffer, amount, offset);
}

static int
s_write (sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset)
{
    s_fault_t fault = s_current_fault ();
    if (fault == S_FAULT_WRITE)
        return SQLITE_IOERR_WRITE;
    if (fault == S_FAULT_FULL)
        return SQLITE_FULL;
    return S_REAL (file)->pMethods->xWrite (S_REAL (file), buffer, amount, offset);
}

static int
s_truncate (sqlite3_file *file, sqlite3_int64 size)
{
    return S_REAL (file)->pMethods->xTruncate (S_REAL (file), size);
}

static int
s_sync (sqlite3_file *file, int flags)
{
    if (s_current_fault () == S_FAULT_FSYNC)
        return SQLITE_IOERR_FSYNC;
    return S_REAL (file)->pMethods->xSync (S_REAL (file), flags);
}

static int
s_file_size (sqlite3_file *file, sqlite3_int64 *size)
{
    return S_REAL (file)->pMethods->xFileSize (S_REAL (file), size);
}

static int
s_lock (sqlite3_file *file, int lock)
{
    return S_REAL (file)->pMethods->xLock (S_REAL (file), lock);
}

static int
s_unlock (sqlite3_file *file, int lock)
{
    return S_REAL (file)->pMethods->xUnlock (S_REAL (file), lock);
}

static int
s_check_reserved_lock (sqlite3_file *file, int *out)
{
    return S_REAL (file)->pMethods->xCheckReservedLock (S_REAL (file), out);
}

static int
s_file_control (sqlite3_file *file, int op, void *arg)
{
    return S_REAL (file)->pMethods->xFileControl (S_REAL (file), op, arg);
}

static int
s_sector_size (sqlite3_file *file)
{
    return S_REAL (file)->pMethods->xSectorSize (S_REAL (file));
}

static int
s_device_characteristics (sqlite3_file *file)
{
    return S_REAL (file)->pMethods->xDeviceCharacteristics (S_REAL (file));
}

static int
s_shm_map (sqlite3_file *file, int page, int size, int extend, void volatile **out)
{
    return S_REAL (file)->pMethods->xShmMap (S_REAL (file), page, size, extend, out);
}

static int
s_shm_lock (sqlite3_file *file, int offset, int n, int flags)
{
    return S_REAL (file)->pMethods->xShmLock (S_REAL (file), offset, n, flags);
}

static void
s_shm_barrier (sqlite3_file *file)
{
    S_REAL (file)->pMethods->xShmBarrier (S_REAL (file));
}

static int
s_shm_unmap (sqlite3_file *file, int delete_flag)
{
    return S_REAL (file)->pMethods->xShmUnmap (S_REAL (file), delete_flag);
}

//  Version 2 methods only: memory-mapped I/O (xFetch) would let SQLite read
//  around the shim; leaving it out makes SQLite use xRead.
static const sqlite3_io_methods s_methods = {
    2,
    s_close,
    s_read,
    s_write,
    s_truncate,
    s_sync,
    s_file_size,
    s_lock,
    s_unlock,
    s_check_reserved_lock,
    s_file_control,
    s_sector_size,
    s_device_characteristics,
    s_shm_map,
    s_shm_lock,
    s_shm_barrier,
    s_shm_unmap,
    NULL,
    NULL,
};

static int
s_open (sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags)
{
    (void) vfs;
    s_file_t *ours = (s_file_t *) file;
    ours->real = (sqlite3_file *) (ours + 1);
    int rc = s_real->xOpen (s_real, name, ours->real, flags, out_flags);
    //  SQLite calls xClose only if pMethods is set: set it only on success.
    ours->base.pMethods = rc == SQLITE_OK && ours->real->pMethods ? &s_methods : NULL;
    return rc;
}

static int
s_delete (sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void) vfs;
    return s_real->xDelete (s_real, name, sync_dir);
}

static int
s_access (sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void) vfs;
    return s_real->xAccess (s_real, name, flags, out);
}

static int
s_full_pathname (sqlite3_vfs *vfs, const char *name, int size, char *out)
{
    (void) vfs;
    return s_real->xFullPathname (s_real, name, size, out);
}

static int
s_randomness (sqlite3_vfs *vfs, int size, char *out)
{
    (void) vfs;
    return s_real->xRandomness (s_real, size, out);
}

static int
s_sleep (sqlite3_vfs *vfs, int microseconds)
{
    (void) vfs;
    return s_real->xSleep (s_real, microseconds);
}

static int
s_current_time (sqlite3_vfs *vfs, double *out)
{
    (void) vfs;
    return s_real->xCurrentTime (s_real, out);
}

static int
s_last_error (sqlite3_vfs *vfs, int size, char *out)
{
    (void) vfs;
    return s_real->xGetLastError (s_real, size, out);
}

static int
s_current_time_int64 (sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void) vfs;
    return s_real->xCurrentTimeInt64 (s_real, out);
}

static void
s_register (void)
{
    s_control = getenv (LD_FAULT_FILE_ENV);
    s_real = sqlite3_vfs_find (NULL);
    if (!s_control || !*s_control || !s_real)
        return;
    s_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int) sizeof (s_file_t) + s_real->szOsFile,
        .mxPathname = s_real->mxPathname,
        .zName = "liandong-fault",
        .xOpen = s_open,
        .xDelete = s_delete,
        .xAccess = s_access,
        .xFullPathname = s_full_pathname,
        .xRandomness = s_randomness,
        .xSleep = s_sleep,
        .xCurrentTime = s_current_time,
        .xGetLastError = s_last_error,
        .xCurrentTimeInt64 = s_current_time_int64,
    };
    sqlite3_vfs_register (&s_vfs, 1);
}

void
ld_faultvfs_install (void)
{
    pthread_once (&s_once, s_register);
}
