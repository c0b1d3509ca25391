/* match: the one pattern matcher behind Match, AllowUsers/DenyUsers and
 * authorized_keys from=. */
#include <stdlib.h>
#include "match.h"
#include "unit.h"

static void test_glob(void)
{
	CHECK(match_pattern("foo", "foo") == 1);
	CHECK(match_pattern("foo", "f*") == 1);
	CHECK(match_pattern("foo", "f?o") == 1);
	CHECK(match_pattern("foo", "*o*o") == 1);
	CHECK(match_pattern("foo", "***") == 1);
	CHECK(match_pattern("foo", "fo") == 0);
	CHECK(match_pattern("foo", "foo?") == 0);
	CHECK(match_pattern("foo", "foo*") == 1);
	CHECK(match_pattern("", "*") == 1);
	CHECK(match_pattern("", "") == 1);
	CHECK(match_pattern("a", "") == 0);
	CHECK(match_pattern("", "?") == 0);
	CHECK(match_pattern("abc", "a*b") == 0);
	CHECK(match_pattern("abcb", "a*b") == 1);
	CHECK(match_pattern("a.b.c", "*.*.c") == 1);
	CHECK(match_pattern("mississippi", "m*iss*ppi") == 1);
	CHECK(match_pattern("mississippi", "m*iss*iss*iss*ppi") == 0);
	/* case-sensitive; no character is special but '*' and '?' */
	CHECK(match_pattern("Foo", "foo") == 0);
	CHECK(match_pattern("a[b]", "a[b]") == 1);
	CHECK(match_pattern("ab", "a[b]") == 0);
	CHECK(match_pattern(NULL, "*") == 0);
	CHECK(match_pattern("x", NULL) == 0);
}

/* Patterns that take exponential time in a naive recursive matcher must
 * still finish (the test would hang otherwise). */
static void test_glob_pathological(void)
{
	char s[4097], pat[4097];
	memset(s, 'a', 4096);
	s[4096] = 0;
	for (int i = 0; i < 4096; i += 2) {
		pat[i] = '*';
		pat[i + 1] = 'a';
	}
	pat[4096] = 0;
	CHECK(match_pattern(s, pat) == 1);
	pat[4095] = 'b';                     /* "*a*a...*b": no match */
	CHECK(match_pattern(s, pat) == 0);
	CHECK(match_pattern("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
			    "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*c") == 0);
	/* the same through every list function */
	char list[4200];
	snprintf(list, sizeof list, "x,%s", pat);
	CHECK(match_pattern_list(s, list) == 0);
	CHECK(match_hostname_list(s, list) == 0);
	CHECK(match_addr_list(s, list) == 0);
}

static void test_pattern_list(void)
{
	CHECK(match_pattern_list("alice", "bob,al*") == 1);
	CHECK(match_pattern_list("alice", "!alice,*") == -1);
	CHECK(match_pattern_list("alice", "*,!al*") == -1);
	CHECK(match_pattern_list("carol", "bob,!alice") == 0);
	CHECK(match_pattern_list("bob", "!alice") == 0);
	/* blanks around entries and after '!' are not part of the pattern */
	CHECK(match_pattern_list("carol", "bob, carol") == 1);
	CHECK(match_pattern_list("carol", " carol ,bob") == 1);
	CHECK(match_pattern_list("carol", "*, ! carol") == -1);
	/* empty lists and entries match nothing; a bare '!' negates nothing */
	CHECK(match_pattern_list("carol", "") == 0);
	CHECK(match_pattern_list("carol", ",,") == 0);
	CHECK(match_pattern_list("carol", "!,carol") == 1);
	CHECK(match_pattern_list("", "") == 0);
	/* case rules: user names are case-sensitive, host names are not */
	CHECK(match_pattern_list("Alice", "alice") == 0);
	CHECK(match_pattern_list("Alice", "*,!alice") == 1);
	CHECK(match_hostname_list("PC.Example.ORG", "*.example.org") == 1);
	CHECK(match_hostname_list("pc.example.org", "*.EXAMPLE.org,!PC.*") == -1);
	CHECK(match_hostname_list("pc.example.com", "*.example.org") == 0);
	CHECK(match_pattern_list(NULL, "*") == 0);
	CHECK(match_hostname_list("x", NULL) == 0);
}

static void test_addr_v4(void)
{
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/8") == 1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/8,!10.1.0.0/16") == -1);
	CHECK(match_addr_list("10.2.2.3", "10.0.0.0/8,!10.1.0.0/16") == 1);
	CHECK(match_addr_list("11.0.0.1", "10.0.0.0/8") == 0);
	CHECK(match_addr_list("192.168.1.77", "192.168.1.64/26") == 1);
	CHECK(match_addr_list("192.168.1.128", "192.168.1.64/26") == 0);
	CHECK(match_addr_list("192.168.1.63", "192.168.1.64/26") == 0);
	CHECK(match_addr_list("1.2.3.4", "0.0.0.0/0") == 1);
	CHECK(match_addr_list("255.255.255.255", "0.0.0.0/0") == 1);
	CHECK(match_addr_list("1.2.3.4", "1.2.3.4/32") == 1);
	CHECK(match_addr_list("1.2.3.5", "1.2.3.4/32") == 0);
	CHECK(match_addr_list("1.2.3.4", " 1.2.3.4/32 ") == 1);
	/* host bits in the network are ignored, as the prefix says */
	CHECK(match_addr_list("10.200.0.1", "10.9.9.9/8") == 1);
	/* globs on the address text */
	CHECK(match_addr_list("10.1.2.3", "10.1.*") == 1);
	CHECK(match_addr_list("10.1.2.3", "10.1.2.?,!10.1.2.3") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.1.2.3") == 1);
	CHECK(match_addr_list("10.1.2.30", "10.1.2.3") == 0);
	/* an address list given a host name: globs, case-insensitive */
	CHECK(match_addr_list("host.EXAMPLE.com", "*.example.com") == 1);
	CHECK(match_addr_list("host.example.org", "*.example.com,10.0.0.0/8") == 0);
	CHECK(match_addr_list(NULL, "*") == 0);
	CHECK(match_addr_list("1.2.3.4", NULL) == 0);
}

static void test_addr_v6(void)
{
	CHECK(match_addr_list("2001:db8::1", "2001:db8::/32") == 1);
	CHECK(match_addr_list("2001:db9::1", "2001:db8::/32") == 0);
	CHECK(match_addr_list("2001:db8::1", "2001:db8::1/128") == 1);
	CHECK(match_addr_list("2001:db8::2", "2001:db8::1/128") == 0);
	CHECK(match_addr_list("2001:db8::1", "::/0") == 1);
	CHECK(match_addr_list("2001:db8:0:1::5", "2001:db8::/48,!2001:db8:0:1::/64") == -1);
	CHECK(match_addr_list("2001:db8:0:2::5", "2001:db8::/48,!2001:db8:0:1::/64") == 1);
	/* the same address written differently */
	CHECK(match_addr_list("2001:0db8:0000::0001", "2001:db8::1/128") == 1);
	/* families do not mix */
	CHECK(match_addr_list("2001:db8::1", "10.0.0.0/8") == 0);
	CHECK(match_addr_list("2001:db8::1", "0.0.0.0/0") == 0);
	CHECK(match_addr_list("10.1.2.3", "::/0") == 0);
	CHECK(match_addr_list("::1", "::1/128") == 1);
}

/* ::ffff:a.b.c.d is the IPv4 address it carries, whichever way it is written */
static void test_addr_v4mapped(void)
{
	CHECK(match_addr_list("::ffff:10.1.2.3", "10.0.0.0/8") == 1);
	CHECK(match_addr_list("::ffff:10.1.2.3", "10.0.0.0/8,!10.1.2.3/32") == -1);
	CHECK(match_addr_list("::ffff:10.1.2.3", "0.0.0.0/0") == 1);
	CHECK(match_addr_list("::ffff:10.1.2.3", "11.0.0.0/8") == 0);
	CHECK(match_addr_list("10.1.2.3", "::ffff:10.0.0.0/104") == 1);
	CHECK(match_addr_list("::ffff:10.1.2.3", "::ffff:10.1.2.3/128") == 1);
	CHECK(match_addr_list("::ffff:11.1.2.3", "::ffff:10.0.0.0/104") == 0);
}

/* A malformed CIDR entry anywhere denies, whatever else matched. */
static void test_addr_malformed(void)
{
	CHECK(match_addr_list("10.1.2.3", "*,!10.0.0.0/33") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/8,10.0.0.0/") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/8,bogus/8") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/-1") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/8x") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0.0/0008") == -1);
	CHECK(match_addr_list("10.1.2.3", "/8") == -1);
	CHECK(match_addr_list("10.1.2.3", "10.0.0/8") == -1);
	CHECK(match_addr_list("2001:db8::1", "2001:db8::/129") == -1);
	CHECK(match_addr_list("host.example.com", "*.example.com,10.0.0.0/40") == -1);

	char bad[64];
	CHECK(match_addr_list_valid("10.0.0.0/8, !192.168.0.0/16,*.example.com,::1/128", bad,
				    sizeof bad) == 0);
	CHECK(match_addr_list_valid("10.0.0.0/8,::/0,0.0.0.0/0,10.*", bad, sizeof bad) == 0);
	CHECK(match_addr_list_valid("10.0.0.0/8, !nonsense/8 ,x", bad, sizeof bad) == -1);
	CHECK(strcmp(bad, "!nonsense/8") == 0);
	CHECK(match_addr_list_valid("1.2.3.4/33", bad, sizeof bad) == -1);
	CHECK(strcmp(bad, "1.2.3.4/33") == 0);
	CHECK(match_addr_list_valid("2001:db8::/200", bad, sizeof bad) == -1);
	CHECK(strcmp(bad, "2001:db8::/200") == 0);
	CHECK(match_addr_list_valid("10.0.0.1,!", bad, sizeof bad) == -1);
	CHECK(strcmp(bad, "!") == 0);
	/* bad is truncated, never overrun */
	char tiny[4];
	CHECK(match_addr_list_valid("10.0.0.0/99", tiny, sizeof tiny) == -1);
	CHECK(strcmp(tiny, "10.") == 0);
}

static void test_groups(void)
{
	const char *staff[] = { "users", "staff", NULL };
	const char *wheel[] = { "users", "wheel", NULL };
	const char *none[] = { NULL };
	CHECK(match_group_list(staff, "staff") == 1);
	CHECK(match_group_list(staff, "adm,st*") == 1);
	CHECK(match_group_list(staff, "adm") == 0);
	CHECK(match_group_list(staff, "users,!staff") == 0);
	CHECK(match_group_list(wheel, "users,!staff") == 1);
	CHECK(match_group_list(wheel, "*,!wheel") == 0);
	CHECK(match_group_list(wheel, "!staff") == 0);
	CHECK(match_group_list(staff, " staff ") == 1);
	CHECK(match_group_list(staff, "Staff") == 0);
	CHECK(match_group_list(none, "*") == 0);
	CHECK(match_group_list(NULL, "*") == 0);
}

static void test_user_entry(void)
{
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "al*") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "Alice") == 0);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "bob") == 0);
	/* USER@CIDR */
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@10.0.0.0/8") == 1);
	CHECK(match_user_entry("alice", "11.1.2.3", NULL, "alice@10.0.0.0/8") == 0);
	CHECK(match_user_entry("bob", "10.1.2.3", NULL, "alice@10.0.0.0/8") == 0);
	CHECK(match_user_entry("alice", "::ffff:10.1.2.3", NULL, "alice@10.0.0.0/8") == 1);
	CHECK(match_user_entry("alice", "2001:db8::7", NULL, "*@2001:db8::/32") == 1);
	/* USER@glob: against the address, and the host name when known */
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@10.1.*") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "*@*") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", "pc.Example.org", "alice@*.example.org") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@*.example.org") == 0);
	CHECK(match_user_entry("alice", "10.1.2.3", "pc.example.com", "alice@*.example.org") == 0);
	/* a negated or malformed host part never lets the entry match */
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@10.0.0.0/8,!10.1.0.0/16") == 0);
	CHECK(match_user_entry("alice", "10.2.2.3", NULL, "alice@10.0.0.0/8,!10.1.0.0/16") == 1);
	CHECK(match_user_entry("alice", "10.1.2.3", "pc.example.org",
			       "alice@*,!*.example.org") == 0);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@*,10.0.0.0/99") == 0);
	CHECK(match_user_entry("alice", "10.1.2.3", NULL, "alice@") == 0);
	CHECK(match_user_entry("alice", NULL, NULL, "alice@*") == 0);
	CHECK(match_user_entry(NULL, "10.1.2.3", NULL, "*") == 0);
}

static void test_only_negated(void)
{
	CHECK(match_list_only_negated("!10.0.0.0/8") == 1);
	CHECK(match_list_only_negated("!root, !bob") == 1);
	CHECK(match_list_only_negated("!root,bob") == 0);
	CHECK(match_list_only_negated("*,!root") == 0);
	CHECK(match_list_only_negated("") == 0);
	CHECK(match_list_only_negated(",,") == 0);
}

int main(void)
{
	test_only_negated();
	test_glob();
	test_glob_pathological();
	test_pattern_list();
	test_addr_v4();
	test_addr_v6();
	test_addr_v4mapped();
	test_addr_malformed();
	test_groups();
	test_user_entry();
	return UNIT_DONE();
}
