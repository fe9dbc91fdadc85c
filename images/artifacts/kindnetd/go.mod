module svclab.local/kindnetd

go 1.24
