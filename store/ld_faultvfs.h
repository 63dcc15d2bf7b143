/*  ld_faultvfs.h -- storage fault injection for tests (see ld_faultvfs.c). */
#ifndef LD_FAULTVFS_H_INCLUDED
#define LD_FAULTVFS_H_INCLUDED

//  Names the control file; unset in production.
#define LD_FAULT_FILE_ENV "LD_FAULT_FILE"

//  Registers the fault shim as SQLite's default VFS if LD_FAULT_FILE is
//  set; does nothing otherwise. Safe to call from any thread, any number of
//  times.
void ld_faultvfs_install (void);

#endif
