# workload: nginx + php-fpm under supervisord in one image (supervisord starts as root and drops per program)
# expect: final.USER absent
# expect: final.CMD = ["/usr/bin/supervisord", "-c", "/etc/supervisor/conf.d/supervisord.conf"]
# evidence: build supervisord-root.Dockerfile#L7-L14
# evidence: docker-library/php 8.5/trixie/fpm/Dockerfile#L174-L176
FROM php:8.3-fpm
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx supervisor \
    && rm -rf /var/lib/apt/lists/*
COPY supervisord.conf /etc/supervisor/conf.d/supervisord.conf
COPY nginx.conf /etc/nginx/sites-enabled/default
COPY . /var/www/html
EXPOSE 80
CMD ["/usr/bin/supervisord", "-c", "/etc/supervisor/conf.d/supervisord.conf"]
