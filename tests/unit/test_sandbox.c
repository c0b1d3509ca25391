/* sandbox: the pre-auth child's seccomp filter, installed in forked
 * children, each trying one call: allowed calls return, the rest end the
 * child by SIGSYS (the argument checks, x32 and other-arch calls included). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#ifdef HAVE_SECCOMP
#include <linux/filter.h>
#include <linux/seccomp.h>

static int tcp_fd;

/* How a child that ran try() under the filter ended: its exit status, or
 * 128 + the signal that killed it. */
static int run(void (*try)(void), int filtered)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(100);
		if (filtered && sandbox_seccomp_load() < 0)
			_exit(101);
		try();
		_exit(0);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

#define KILLED (128 + SIGSYS)

static void nothing(void) {}
static void try_getpid(void) { if (syscall(__NR_getpid) != getpid()) _exit(2); }
static void try_openat(void) { syscall(__NR_openat, AT_FDCWD, "/dev/null", O_RDONLY); }
static void try_socket(void) { syscall(__NR_socket, AF_INET, SOCK_STREAM, 0); }

static void *try_map(int prot)
{
	void *p = mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(3);
	return p;
}
static void try_mmap_rw(void) { try_map(PROT_READ | PROT_WRITE); }
static void try_mmap_exec(void) { try_map(PROT_READ | PROT_EXEC); }
static void try_mprotect_exec(void)
{
	void *p = try_map(PROT_READ | PROT_WRITE);
	mprotect(p, 4096, PROT_READ | PROT_EXEC);
}
static void try_big_malloc(void)
{
	/* above malloc's mmap threshold */
	char *p = malloc(1 << 20);
	if (!p)
		_exit(4);
	p[0] = 1;
	free(p);
}

static void try_quickack(void)
{
	int one = 1;
	if (setsockopt(tcp_fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one)) < 0)
		_exit(5);
}
static void try_nodelay(void)
{
	int one = 1;
	setsockopt(tcp_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
static void try_quickack_high_level(void)
{
	/* the kernel reads an int; the filter compares all 64 bits */
	int one = 1;
	unsigned long long high_bit = 1ULL << 32;
	syscall(__NR_setsockopt, tcp_fd, (long)(IPPROTO_TCP | high_bit), TCP_QUICKACK,
		&one, sizeof(one));
}

#ifdef __x86_64__
static void try_x32_getpid(void) { syscall(__X32_SYSCALL_BIT | __NR_getpid); }
/* int 0x80: the i386 ABI's getpid (20), arch AUDIT_ARCH_I386 */
static void try_i386_getpid(void)
{
	long ret = 20;
	/* a kernel without i386 emulation answers SIGSEGV: end quietly (no
	 * sanitizer report) */
	signal(SIGSEGV, SIG_DFL);
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	if (ret != getpid())
		_exit(6);
}
#endif

/* An allow-all filter: can this process install one at all (qemu-user
 * cannot)? */
static void allow_all(void)
{
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { 1, &insn };
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		_exit(7);
}

int main(void)
{
	CHECK(sandbox_has_seccomp() == 1);
	if (run(allow_all, 0) != 0) {
		/* fail closed: the child's own load must fail too */
		printf("no seccomp filters here (qemu-user?): checking the load fails\n");
		CHECK(run(nothing, 1) == 101);
		return UNIT_DONE();
	}
	tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(tcp_fd >= 0);

	CHECK(run(nothing, 1) == 0);
	CHECK(run(try_getpid, 1) == 0);
	CHECK(run(try_openat, 0) == 0);
	CHECK(run(try_openat, 1) == KILLED);
	CHECK(run(try_socket, 1) == KILLED);
	CHECK(run(try_mmap_rw, 1) == 0);
	CHECK(run(try_big_malloc, 1) == 0);
	CHECK(run(try_mmap_exec, 0) == 0);
	CHECK(run(try_mmap_exec, 1) == KILLED);
	CHECK(run(try_mprotect_exec, 1) == KILLED);
	CHECK(run(try_quickack, 1) == 0);
	CHECK(run(try_nodelay, 0) == 0);
	CHECK(run(try_nodelay, 1) == KILLED);
	if (sizeof(long) == 8)
		CHECK(run(try_quickack_high_level, 1) == KILLED);
#ifdef __x86_64__
	CHECK(run(try_x32_getpid, 1) == KILLED);
	if (run(try_i386_getpid, 0) == 0)
		CHECK(run(try_i386_getpid, 1) == KILLED);
	else
		printf("no i386 emulation in this kernel: the arch check is not tried\n");
#endif
	close(tcp_fd);
	return UNIT_DONE();
}
#else
int main(void)
{
	/* built --without-seccomp: nothing is installed, and -T says so */
	CHECK(sandbox_has_seccomp() == 0);
	return UNIT_DONE();
}
#endif
