# workload: a static site on nginx:alpine with its own server block
# expect: final.USER absent; fix of DF002 is display-only
# expect: final.HEALTHCHECK has curl; final.HEALTHCHECK has http://127.0.0.1:80/
# evidence: nginx/pkg-oss debian/debian/nginx.conf#L2-L6
# evidence: nginx/pkg-oss debian/debian/nginx.default.conf#L1-L10
# evidence: nginx/docker-nginx mainline/alpine/Dockerfile#L85-L86
FROM nginx:1.27-alpine
COPY nginx.conf /etc/nginx/conf.d/default.conf
COPY dist/ /usr/share/nginx/html/
EXPOSE 80
