using System.Globalization;

namespace Mulan.Bench.Arms;

/// <summary>
/// nginx as the floor: a plain reverse proxy that adds nothing but a hop. Unbuffered (events pass as they
/// come), HTTP/1.1 with a keep-alive upstream pool (no connect per request), one worker like the other
/// single-core arms. Every path points into the run's scratch folder so nothing touches /var.
/// </summary>
internal static class NginxConfig
{
    public static string Render(string folder, int port, int vendorPort) => string.Create(CultureInfo.InvariantCulture,
        $$"""
        worker_processes 1;
        worker_rlimit_nofile 16384;
        pid {{folder}}/nginx.pid;
        error_log {{folder}}/error.log warn;

        events {
            worker_connections 8192;
        }

        http {
            access_log off;
            client_body_temp_path {{folder}}/client_body;
            proxy_temp_path {{folder}}/proxy;
            fastcgi_temp_path {{folder}}/fastcgi;
            uwsgi_temp_path {{folder}}/uwsgi;
            scgi_temp_path {{folder}}/scgi;
            keepalive_requests 1000000;
            keepalive_timeout 300s;

            upstream vendor {
                server 127.0.0.1:{{vendorPort}};
                keepalive 1024;
                keepalive_requests 1000000;
                keepalive_timeout 300s;
            }

            server {
                listen 127.0.0.1:{{port}};

                location / {
                    proxy_pass http://vendor;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_buffering off;
                    proxy_read_timeout 300s;
                }
            }
        }
        """);
}
