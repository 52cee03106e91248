#!/bin/sh
# Regenerates the test certificates (run in netutil/testdata). Valid for 100 years.
set -e
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 36500 -subj "/CN=tornado-cpp test CA"
for name in localhost other.example; do
  if [ "$name" = localhost ]; then san="DNS:localhost,IP:127.0.0.1,IP:::1"; else san="DNS:other.example"; fi
  openssl req -newkey rsa:2048 -nodes -keyout $name.key -out $name.csr -subj "/CN=$name"
  printf "subjectAltName=%s\nbasicConstraints=CA:FALSE\n" "$san" > $name.ext
  openssl x509 -req -in $name.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $name.crt -days 36500 -extfile $name.ext
  rm $name.csr $name.ext
done
rm -f ca.srl
