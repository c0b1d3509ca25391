/* dhgroup: the group a diffie-hellman-group-exchange-sha256 client gets
 * (RFC 4419 s3): from a moduli(5) file when there is a usable one (OpenSSH's
 * /etc/ssh/moduli), else from a built-in set of safe primes of 2048, 3072,
 * 4096, 6144 and 8192 bits (crypto/dhgroup_builtin.h, made by
 * crypto/gen_dhgroups.sh). */
#ifndef WOMBAT_DHGROUP_H
#define WOMBAT_DHGROUP_H

#include <stdint.h>
#include "kexalg.h"

/* What happened while choosing, for the caller to log. */
struct dhgroup_scan {
	int from_file;       /* the group came from the moduli file */
	int file_missing;    /* no such file (or unreadable): built-in set */
	int file_unsafe;     /* not a regular file, not root's, or writable by
	                      * group/others: ignored, built-in set */
	int bad_lines;       /* malformed lines skipped */
	int first_bad_line;  /* line number of the first of them (0: none) */
};

/* Choose a group for a client that asked for min <= want <= max bits. Only
 * sizes in [max(min, 2048), min(max, 8192)] are considered; of those the
 * smallest size >= want, else the largest below it; among groups of that
 * size one at random. The file is used if it has any group in range, else
 * the built-in set. 0 and *out filled, or -1: nothing in range. */
int dhgroup_choose(const char *moduli_path, uint32_t min, uint32_t want, uint32_t max,
		   struct dh_group *out, struct dhgroup_scan *scan);

/* One moduli(5) line (without or with its newline): 1 and *out filled for a
 * usable group (a safe prime, type 2, that passed Miller-Rabin tests and is
 * not marked composite, 2048..8192 bits, odd, bit length matching its size
 * field, generator 2..2^32-1); 0 for a comment, a blank line or a well-formed
 * line wombat does not use; -1 for a malformed line. */
int dhgroup_parse_line(const char *line, struct dh_group *out);

#endif
