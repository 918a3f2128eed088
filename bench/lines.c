/*
 * lines.c - a job that prints BYTES of 100-byte lines as fast as it can.
 *
 * lines BYTES [TAG]
 *
 * Each line is 99 printable bytes and a newline; the output is written in
 * blocks of 640 lines (64,000 bytes), and BYTES is rounded down to whole
 * lines.  TAG is ignored: it lets GNU parallel tell the jobs apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE 100
#define PER_BLOCK 640

int
main(int argc, char **argv)
{
	static char block[LINE * PER_BLOCK];
	long long left;
	size_t n, off;
	ssize_t w;
	int i;

	if (argc < 2)
		return 2;
	left = atoll(argv[1]) / LINE * LINE;
	for (i = 0; i < PER_BLOCK; i++) {
		memset(block + i * LINE, 'a' + i % 26, LINE - 1);
		block[i * LINE + LINE - 1] = '\n';
	}
	while (left > 0) {
		n = left < (long long)sizeof(block) ? (size_t)left :
		    sizeof(block);
		for (off = 0; off < n; off += (size_t)w) {
			w = write(1, block + off, n - off);
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w < 0)
				return 1;
		}
		left -= (long long)n;
	}
	return 0;
}
