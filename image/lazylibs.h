/* image/lazylibs.h: libarchive and libcrypto, loaded with dlopen on first use
 * so that commands that never touch an image do not pay for them. */
#ifndef BERTH_IMAGE_LAZYLIBS_H
#define BERTH_IMAGE_LAZYLIBS_H

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "common/error.h"

/* Each function the image code uses, as a typed pointer `sym_<name>`
 * (the pattern of systemd's dlopen helpers): the compiler still checks every
 * call against the library's own prototype. */
#define LAZY_ARCHIVE_SYMBOLS(X)                 \
	X(archive_read_new)                     \
	X(archive_read_free)                    \
	X(archive_read_support_format_tar)      \
	X(archive_read_support_format_raw)      \
	X(archive_read_support_filter_gzip)     \
	X(archive_read_support_filter_zstd)     \
	X(archive_read_support_filter_xz)       \
	X(archive_read_support_filter_bzip2)    \
	X(archive_read_open2)                   \
	X(archive_read_open_fd)                 \
	X(archive_read_next_header)             \
	X(archive_read_data)                    \
	X(archive_read_data_block)              \
	X(archive_read_data_skip)               \
	X(archive_error_string)                 \
	X(archive_errno)                        \
	X(archive_set_error)                    \
	X(archive_filter_count)                 \
	X(archive_filter_code)                  \
	X(archive_entry_pathname)               \
	X(archive_entry_hardlink)               \
	X(archive_entry_symlink)                \
	X(archive_entry_filetype)               \
	X(archive_entry_mode)                   \
	X(archive_entry_uid)                    \
	X(archive_entry_gid)                    \
	X(archive_entry_size)                   \
	X(archive_entry_size_is_set)            \
	X(archive_entry_mtime)                  \
	X(archive_entry_mtime_nsec)             \
	X(archive_entry_atime)                  \
	X(archive_entry_atime_nsec)             \
	X(archive_entry_atime_is_set)           \
	X(archive_entry_rdevmajor)              \
	X(archive_entry_rdevminor)              \
	X(archive_entry_xattr_reset)            \
	X(archive_entry_xattr_next)

#define LAZY_CRYPTO_SYMBOLS(X)  \
	X(EVP_MD_CTX_new)       \
	X(EVP_MD_CTX_free)      \
	X(EVP_DigestInit_ex)    \
	X(EVP_DigestUpdate)     \
	X(EVP_DigestFinal_ex)   \
	X(EVP_sha256)           \
	X(EVP_sha512)

#define LAZY_DECLARE(name) extern __typeof__(name) *sym_##name;
LAZY_ARCHIVE_SYMBOLS(LAZY_DECLARE)
LAZY_CRYPTO_SYMBOLS(LAZY_DECLARE)
#undef LAZY_DECLARE

/* Load the library on first use (later calls are free). Fails with
 * "libarchive.so.13 not found: install libarchive13" and the like. */
int lazy_archive_load(berr_t *e);
int lazy_crypto_load(berr_t *e);
/* For tests and benchmarks: whether a library has been loaded. */
bool lazy_archive_loaded(void);
bool lazy_crypto_loaded(void);

#endif
