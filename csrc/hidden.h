/* Every function the files of ion.upload.core share is hidden: the only
 * symbol the module exports is luaopen_ion_upload_core. */
#ifndef ION_HIDDEN_H
#define ION_HIDDEN_H

#define ION_HIDDEN __attribute__((visibility("hidden")))

#endif
