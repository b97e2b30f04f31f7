#ifndef GUESTHOUSE_CLIBVIRT_SHIM_H
#define GUESTHOUSE_CLIBVIRT_SHIM_H
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#endif
