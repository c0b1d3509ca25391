/* ascii: the <ctype.h> tests wombat uses, as range checks on the byte.
 * wombatd never calls setlocale, so it runs in the "C" locale, where
 * isdigit/isspace/isalnum/isxdigit and tolower mean exactly these; the
 * library's versions cost a call to __ctype_b_loc (an import) and a table
 * load at each use. Pass an unsigned char (or the int holding one). */
#ifndef WOMBAT_ASCII_H
#define WOMBAT_ASCII_H

static inline int a_digit(int c) { return (unsigned)c - '0' < 10; }
/* ' ', and \t \n \v \f \r (9..13) */
static inline int a_space(int c) { return c == ' ' || (unsigned)c - '\t' < 5; }
static inline int a_alpha(int c) { return ((unsigned)c | 0x20) - 'a' < 26; }
static inline int a_alnum(int c) { return a_digit(c) || a_alpha(c); }
static inline int a_xdigit(int c) { return a_digit(c) || ((unsigned)c | 0x20) - 'a' < 6; }
static inline int a_lower(int c) { return (unsigned)c - 'A' < 26 ? c | 0x20 : c; }

#endif
