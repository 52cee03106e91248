// A stand-in for libssh2.so.1 that keeps OpenSSL out of processes using libcurl.
//
// Debian's libcurl (every flavour) needs libssh2.so.1, which needs OpenSSL's
// libcrypto.so.3. Our binaries link BoringSSL, whose libcrypto exports the same names
// without symbol versions; glibc binds libcrypto.so.3's and libssh2's versioned
// references (EVP_*@OPENSSL_3.0.0, ...) to BoringSSL's unversioned definitions, which
// come first in the global scope. 1409 such bindings happen at startup (see
// README.md, "BoringSSL and libcurl in one process"). This library has the SONAME
// libssh2.so.1 and is a direct dependency of every binary linking //curl_httpclient,
// so the dynamic loader satisfies libcurl's DT_NEEDED libssh2.so.1 with it and never
// loads the real libssh2 or libcrypto.so.3.
//
// Only SCP/SFTP need libssh2; curl_httpclient allows http and https only. Every entry
// point libcurl-gnutls.so.4 (curl 7.88) imports is defined: libssh2_init succeeds (so
// curl_global_init does), constructors return NULL (curl then fails the transfer with
// an error) and everything else returns -1 (LIBSSH2_ERROR_SOCKET_NONE). The list is
// generated from `objdump -T libcurl-gnutls.so.4 | grep libssh2_`; a libcurl that
// imports a name missing here fails to load (with BIND_NOW) or at the call, loudly;
// stub_test checks the list against the installed libcurl.
#include <stddef.h>

#define PTR(name) \
  void* name(void) { return NULL; }
#define ERR(name) \
  long name(void) { return -1; }

int libssh2_init(int flags) {
  (void)flags;
  return 0;
}
void libssh2_exit(void) {}
const char* libssh2_version(int required_version) {
  (void)required_version;
  return NULL;
}

// Lets a binary (and the isolation test) check that this stand-in is the libssh2.so.1
// it loaded.
const char* tornado_libssh2_stub(void) { return "tornado-cpp libssh2 stub"; }

ERR(libssh2_agent_connect)
ERR(libssh2_agent_disconnect)
ERR(libssh2_agent_free)
ERR(libssh2_agent_get_identity)
PTR(libssh2_agent_init)
ERR(libssh2_agent_list_identities)
ERR(libssh2_agent_userauth)
ERR(libssh2_channel_free)
ERR(libssh2_channel_read_ex)
ERR(libssh2_channel_send_eof)
ERR(libssh2_channel_wait_closed)
ERR(libssh2_channel_wait_eof)
ERR(libssh2_channel_write_ex)
PTR(libssh2_hostkey_hash)
ERR(libssh2_knownhost_add)
ERR(libssh2_knownhost_checkp)
ERR(libssh2_knownhost_del)
ERR(libssh2_knownhost_free)
ERR(libssh2_knownhost_get)
PTR(libssh2_knownhost_init)
ERR(libssh2_knownhost_readfile)
ERR(libssh2_knownhost_writefile)
PTR(libssh2_scp_recv2)
PTR(libssh2_scp_send64)
PTR(libssh2_session_abstract)
ERR(libssh2_session_block_directions)
PTR(libssh2_session_callback_set)
ERR(libssh2_session_disconnect_ex)
ERR(libssh2_session_flag)
ERR(libssh2_session_free)
ERR(libssh2_session_handshake)
PTR(libssh2_session_hostkey)
PTR(libssh2_session_init_ex)
ERR(libssh2_session_last_errno)
ERR(libssh2_session_last_error)
ERR(libssh2_session_method_pref)
ERR(libssh2_session_set_blocking)
ERR(libssh2_sftp_close_handle)
PTR(libssh2_sftp_init)
ERR(libssh2_sftp_last_error)
ERR(libssh2_sftp_mkdir_ex)
PTR(libssh2_sftp_open_ex)
ERR(libssh2_sftp_read)
ERR(libssh2_sftp_readdir_ex)
ERR(libssh2_sftp_rename_ex)
ERR(libssh2_sftp_rmdir_ex)
ERR(libssh2_sftp_seek64)
ERR(libssh2_sftp_shutdown)
ERR(libssh2_sftp_stat_ex)
ERR(libssh2_sftp_statvfs)
ERR(libssh2_sftp_symlink_ex)
ERR(libssh2_sftp_unlink_ex)
ERR(libssh2_sftp_write)
ERR(libssh2_userauth_authenticated)
ERR(libssh2_userauth_keyboard_interactive_ex)
PTR(libssh2_userauth_list)
ERR(libssh2_userauth_password_ex)
ERR(libssh2_userauth_publickey_fromfile_ex)
