/*
 * printk.h - the kernel's log buffer (kernel/printk/printk.c): what
 * `dmesg` shows. Lines the model's kernel prints (the OOM killer's report,
 * swapon's "Adding ...k swap") go here with a timestamp-free prefix-less
 * text, as `dmesg --notime` prints them. The buffer is bounded
 * (LOG_BUF_BYTES, like log_buf_len): when full, the oldest lines go.
 */
#ifndef KERNEL_SIM_PRINTK_H
#define KERNEL_SIM_PRINTK_H

#include <stddef.h>
#include <stdio.h>

#define LOG_BUF_BYTES (64 * 1024)

struct printk_log {
	char *buf; /* lines, each ending in '\n'; NUL-terminated; owned */
	size_t len;
};

struct kernel;

void printk(struct kernel *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The log as `dmesg --notime` prints it. */
void printk_show(const struct kernel *k, FILE *out);
void printk_destroy(struct kernel *k);

#endif
