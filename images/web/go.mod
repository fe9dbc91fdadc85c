module svclab.dev/web

go 1.24
