/*
 * tbprofile: a qemu-user TCG plugin that counts, per translated block (TB), how many guest instructions ran in it.
 * At exit it prints one line per TB that ran: "tb <vaddr hex> <instructions per execution> <executions>" to the
 * plugin log (qemu -d plugin, i.e. stderr). bench/arm-profile/arm-profile.sh maps those addresses to the symbols of
 * an unstripped Native AOT binary and prints instructions per function.
 * Built against the QEMU plugin API (version 1 as in Debian 12's qemu 7.2); only the few declarations it needs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb_t)(qemu_plugin_id_t, struct qemu_plugin_tb *);
typedef void (*udata_cb_t)(qemu_plugin_id_t, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, tb_trans_cb_t);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, enum qemu_plugin_op, void *ptr, uint64_t imm);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, udata_cb_t, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);
void qemu_plugin_outs(const char *);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One record per translation; a block translated again (same vaddr) gets another record, summed afterwards. */
struct block { uint64_t vaddr, insns, executions; struct block *next; };
static struct block *blocks;

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    struct block *b = calloc(1, sizeof *b);
    if (!b) return;
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->insns = qemu_plugin_tb_n_insns(tb);
    b->next = blocks; /* translation is serialised by qemu's TB lock */
    blocks = b;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &b->executions, 1);
}

static void at_exit(qemu_plugin_id_t id, void *u)
{
    char line[96];
    for (struct block *b = blocks; b; b = b->next)
        if (b->executions) {
            snprintf(line, sizeof line, "tb %llx %llu %llu\n", (unsigned long long)b->vaddr,
                     (unsigned long long)b->insns, (unsigned long long)b->executions);
            qemu_plugin_outs(line);
        }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
