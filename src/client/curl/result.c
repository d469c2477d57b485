/*
 * A finished libcurl transfer: its response details (status, URL, version,
 * timings), and libcurl's results as acrawl's error codes.
 */
#include <errno.h>

#include "client/curl/internal.h"

static uint64_t info_us(CURL *easy, CURLINFO what) {
  curl_off_t v = 0;
  if (curl_easy_getinfo(easy, what, &v) != CURLE_OK || v < 0) return 0;
  return (uint64_t)v;
}

int ac__response_finish(ac_response_t *r, CURL *easy) {
  long code = 0, version = 0;
  char *url = NULL;

  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
  if (code != 0) r->status = (int)code;
  curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &version);
  switch (version) {
  case CURL_HTTP_VERSION_1_0: r->http_version = 10; break;
  case CURL_HTTP_VERSION_2_0: r->http_version = 20; break;
  case CURL_HTTP_VERSION_3: r->http_version = 30; break;
  default: r->http_version = 11; break;
  }
  curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &url);
  r->url = ac__strdup(url != NULL ? url : "");
  r->timings.dns_us = info_us(easy, CURLINFO_NAMELOOKUP_TIME_T);
  r->timings.connect_us = info_us(easy, CURLINFO_CONNECT_TIME_T);
  r->timings.tls_us = info_us(easy, CURLINFO_APPCONNECT_TIME_T);
  r->timings.first_byte_us = info_us(easy, CURLINFO_STARTTRANSFER_TIME_T);
  r->timings.total_us = info_us(easy, CURLINFO_TOTAL_TIME_T);
  r->timings.redirect_us = info_us(easy, CURLINFO_REDIRECT_TIME_T);
  curl_easy_getinfo(easy, CURLINFO_REDIRECT_COUNT, &r->timings.redirects);
  if (r->url == NULL) return AC_ENOMEM;
  return ac__response_complete(r);
}

/* A failed connect or receive: what the socket said, when it said anything. */
static int from_os_errno(CURL *easy, int fallback) {
  long os = 0;
  if (easy != NULL) curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os);
  switch (os) {
  case 0: return fallback;
  case ECONNREFUSED: return AC_ECONNREFUSED;
  case ECONNRESET: return AC_ECONNRESET;
  case EPIPE: return AC_ECONNRESET;
  case ETIMEDOUT: return AC_ETIMEDOUT;
  default: return (int)-os;
  }
}

/* The transfer reached a server (a new or a reused connection). */
static int connected(CURL *easy) {
  char *ip = NULL;
  return easy != NULL && curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
         ip != NULL && ip[0] != '\0';
}

int ac__http_classify(CURLcode rc, CURL *easy, const ac_response_t *r) {
  switch (rc) {
  case CURLE_OK: return 0;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY: return AC_EDNS;
  case CURLE_COULDNT_CONNECT: return from_os_errno(easy, AC_ECONNREFUSED);
  case CURLE_OPERATION_TIMEDOUT: return AC_ETIMEDOUT;
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR: return from_os_errno(easy, AC_ECONNRESET);
  case CURLE_GOT_NOTHING: return AC_ECONNRESET;
  case CURLE_PARTIAL_FILE: return AC_ESHORT;
  case CURLE_TOO_MANY_REDIRECTS: return AC_EREDIRECT;
  case CURLE_FILESIZE_EXCEEDED: return AC_ETOOLARGE;
  case CURLE_WRITE_ERROR:
    if (r != NULL && r->too_large) return AC_ETOOLARGE;
    return AC_ENOMEM; /* our write callback only refuses for size or memory */
  case CURLE_OUT_OF_MEMORY: return AC_ENOMEM;
  case CURLE_ABORTED_BY_CALLBACK: return AC_ECANCELED;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
  case CURLE_SSL_CRL_BADFILE:
  case CURLE_SSL_ENGINE_NOTFOUND:
  case CURLE_SSL_ENGINE_SETFAILED:
  case CURLE_SSL_ENGINE_INITFAILED:
  case CURLE_SSL_SHUTDOWN_FAILED:
  case CURLE_USE_SSL_FAILED: return AC_ETLS;
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_HTTP3:
  case CURLE_BAD_CONTENT_ENCODING:
  case CURLE_RANGE_ERROR: return AC_EPROTO;
  case CURLE_UNSUPPORTED_PROTOCOL:
    /* Also what libcurl says of a reply that is not HTTP/1.x ("HTTP/0.9 not
     * allowed"): once connected, that is the server's fault, not the URL's. */
    return connected(easy) ? AC_EPROTO : AC_EINVAL;
  case CURLE_URL_MALFORMAT:
  case CURLE_BAD_FUNCTION_ARGUMENT: return AC_EINVAL;
  default: return AC_EIO;
  }
}
