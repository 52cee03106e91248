# Sourced by bench/http/*.sh: nginx_config PORT writes an nginx.conf under $work (set by
# the caller) for the hello-world peer and prints its path.

# nginx: one worker, no access log, keep-alive without a request cap (tornado-cpp and
# Python Tornado have none either). With a second argument "tls": HTTPS with the test
# certificate (netutil/testdata), TLS 1.2 and 1.3 as tornado-cpp's defaults.
nginx_config() {
  local listen="listen 127.0.0.1:$1 reuseport backlog=4096;"
  if [[ ${2:-} == tls ]]; then
    local certs
    certs=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../netutil/testdata" && pwd)
    listen="listen 127.0.0.1:$1 ssl reuseport backlog=4096;
    ssl_certificate $certs/localhost.crt; ssl_certificate_key $certs/localhost.key;
    ssl_protocols TLSv1.2 TLSv1.3;"
  fi
  cat >"$work/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work; proxy_temp_path $work; fastcgi_temp_path $work;
  uwsgi_temp_path $work; scgi_temp_path $work;
  server {
    $listen
    location / { return 200 "Hello, world"; }
  }
}
CONF
  echo "$work/nginx.conf"
}
