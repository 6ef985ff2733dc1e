#!/usr/bin/env python3
"""Writes the log fixtures of diagnose's tests in the real formats.

Run from this directory: python3 genfixtures.py. Client logs are CMTrace
(some UTF-16LE with a BOM, some UTF-8 with a BOM), site logs the site-server
format, console logs plain text. Message texts are the lines quoted in
../shared/docs/cmg-flow.md and cmg-failures.md; the CMG is cmg.contoso.com
where a document shows a placeholder, and the documents' own example names
(CMG.CLOUDAPP.NET, MP.MYCORP.COM) where it shows them. Times are fixed.
"""
import datetime, os, shutil

BASE = datetime.datetime(2020, 6, 24, 8, 0, 0)

def cm(comp, msgs, bias=-120, start=BASE, step=1.5, thread=4992):
    """CMTrace lines; times are local with the given UTC bias (UTC = local + bias)."""
    out, t = [], start - datetime.timedelta(minutes=bias)  # local time for UTC `start`
    for m in msgs:
        out.append('<![LOG[%s]LOG]!><time="%s%+04d" date="%s" component="%s" context="" type="%d" thread="%d" file="">' % (
            m, t.strftime('%H:%M:%S.') + '%03d' % (t.microsecond // 1000), bias, t.strftime('%m-%d-%Y'), comp,
            3 if ('failed' in m.lower() or 'error' in m.lower()) else 1, thread))
        t += datetime.timedelta(seconds=step)
    return out

def site(comp, msgs, start=BASE, step=1.5, thread=4992):
    out, t = [], start
    for m in msgs:
        out.append('%s  $$<%s><%s.%03d+00><thread=%d (0x%X)>' % (m.replace('\n', '~~'), comp, t.strftime('%m-%d-%Y %H:%M:%S'), t.microsecond // 1000, thread, thread))
        t += datetime.timedelta(seconds=step)
    return out

def plain(msgs, start=BASE, step=1.5):
    out, t = [], start
    for m in msgs:
        out.append('%s %s' % (t.strftime('%Y-%m-%d %H:%M:%S'), m))
        t += datetime.timedelta(seconds=step)
    return out

def write(d, name, lines, enc='utf-8'):
    os.makedirs(d, exist_ok=True)
    text = '\r\n'.join(lines) + '\r\n'
    with open(os.path.join(d, name), 'wb') as f:
        if enc == 'utf-16le':
            f.write(b'\xff\xfe' + text.encode('utf-16-le'))
        elif enc == 'utf-8-sig':
            f.write(b'\xef\xbb\xbf' + text.encode('utf-8'))
        else:
            f.write(text.encode('utf-8'))

CMG = 'cmg.contoso.com'
CCMSETUP_START = [
    "Getting AAD info from CMG '%s'" % CMG,
    "SMS CCM 5.0: Host=%s, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9aaf466a-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0" % CMG,
    "Created connection on port 443",
]
REVCHECK = "Enabled SSL revocation check."

def secure(flags, value, url='https://%s/CCM_Proxy_ServerAuth/72057594037927939/CCM_STS' % CMG):
    return (["[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_SECURE_FAILURE Encountered",
             "[CCMHTTP] AsyncCallback(): lpvStatusInformation is 0x%x" % value] +
            ["[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_FLAG_%s is set" % f for f in flags] +
            ["[CCMHTTP] ERROR: URL=%s, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE" % url])

S = 'signatures'
shutil.rmtree(S, ignore_errors=True)  # all of S is rewritten below
write(S + '/F01', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK]))
write(S + '/F01', 'LocationServices.log', cm('LocationServices', secure(['INVALID_CA'], 0x8), start=BASE + datetime.timedelta(seconds=8)), 'utf-16le')
write(S + '/F02', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK] + secure(['CERT_REV_FAILED'], 0x1)), 'utf-8-sig')
# F03: installed with /NoCRLCheck (no "Enabled SSL revocation check."), later a rolled-over LocationServices pair.
write(S + '/F03', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [
    "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}",
    "Running installation package"]))
write(S + '/F03', 'LocationServices.lo_', cm('LocationServices', ["Current AD site of machine is Default-First-Site-Name",
    "Refreshing the Management Point List for site MEM"], start=BASE + datetime.timedelta(hours=1)), 'utf-16le')
write(S + '/F03', 'LocationServices.log', cm('LocationServices', secure(['CERT_REV_FAILED'], 0x1), start=BASE + datetime.timedelta(hours=2)), 'utf-16le')
write(S + '/F05', 'CcmMessaging.log', cm('CcmMessaging', secure(['CERT_CN_INVALID'], 0x10, 'https://%s/CCM_Proxy_ServerAuth/72057594037927939/ccm_system_tokenauth/request' % CMG)))
write(S + '/F06', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK,
    "[CCMHTTP] AsyncCallback(): WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID is set",
    "[CCMHTTP] ERROR: URL=https://contoso-cmg.cloudapp.net/downloadrestservice.svc/getcontentxmlsecure?pid=CS100001&cid=CS100001, Port=443, Options=480, Code=0, Text=CCM_E_NO_CLIENT_PKI_CERT",
    "GetDirectoryList failed with a non-recoverable failure, 0x87d00454"]))
write(S + '/F07', 'CcmMessaging.log', cm('CcmMessaging', secure(['CERT_DATE_INVALID'], 0x20, 'https://%s/CCM_Proxy_ServerAuth/72057594037927939/ccm_system_tokenauth/request' % CMG)), 'utf-16le')
write(S + '/S01', 'LocationServices.log', cm('LocationServices', secure(['CERT_REVOKED'], 0x4)))
write(S + '/S02', 'LocationServices.log', cm('LocationServices', secure(['CERT_WRONG_USAGE'], 0x40)))
write(S + '/S03', 'LocationServices.log', cm('LocationServices', [
    "[CCMHTTP] ERROR: URL=https://%s/CCM_Proxy_ServerAuth/72057594037927939/CCM_STS, Port=443, Options=63, Code=12175, Text=ERROR_WINHTTP_SECURE_FAILURE" % CMG]))
write(S + '/F08', 'SMSAdminUI.log', plain([
    "The existing certificate has a CName of MYCMG.CONTOSO.COM. The new certificate has a CName of mycmg.contoso.com. New certificate must have the same CName as previous certificate."]))
write(S + '/F11', 'CloudMgr.log', site('SMS_CLOUD_SERVICES_MANAGER', [
    "ERROR: Http Status Code: BadRequest, Error Message: The private key for the remote desktop certificate cannot be accessed. This may happen for CNG certificates that are not supported for Remote Desktop."]))
SITESIGN = "[CCMHTTP] ERROR: URL=https://%s/CCM_PROXY_MUTUALAUTH/72057594037927939/SMS_MP/.sms_aut?SITESIGNCERT, Port=443, Options=1, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE" % CMG
write(S + '/F17', 'LocationServices.log', cm('LocationServices', [SITESIGN, "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired"]))
write(S + '/F17', 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', [
    "ERROR: Failed to forward request to https://mp.contoso.com/SMS_MP/.sms_aut?SITESIGNCERT. The remote server returned an error: (403) Forbidden."]))
write(S + '/F17v', 'LocationServices.log', cm('LocationServices', [SITESIGN, "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired"]))
write(S + '/F17v', 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', [
    "Filtered cert count with digital signature: 2",
    "Not allowed cert: 5D4F2C0A9B3E7D1C2A4B6C8D0E1F2A3B4C5D6E7F",
    "Filtered cert count with allowed root CA: 1",
    "Filtered cert count with private key: 1",
    "Not client auth cert: 1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B",
    "Filtered cert count with client auth: 0"]))
write(S + '/F18', 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', [
    "Chain build failed cert: 1A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B",
    "Chain 0 status: RevocationStatusUnknown",
    "Chain 1 status: OfflineRevocation",
    "Filtered cert count with allowed root CA and has private key: 0"]))
write(S + '/F18', 'LocationServices.log', cm('LocationServices', [SITESIGN, "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Clientcertificaterequired"]))
write(S + '/F19', 'LocationServices.log', cm('LocationServices', [SITESIGN, "[CCMHTTP] ERROR INFO: StatusCode= 403 StatusText= CMGConnector_Forbidden"]), 'utf-16le')
write(S + '/F20', 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', ["missing role certificate. reload in next cycle"] * 3, step=60))
write(S + '/F22', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK, "WPJ certificate not found"]))
write(S + '/F22a', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK,
    "Getting CCM Token from STS server 'cmg.contoso.com/CCM_Proxy_MutualAuth/72186325152220500'",
    "Getting CCM Token from https://cmg.contoso.com/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS"]))
DEVICE_FAIL = [
    "Getting AAD (device) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8b, ResourceUrl = https://ConfigMgrService, AccountId = https://login.microsoftonline.com/common/oauth2/token",
    "WAM token request failed. Status 5, Details 'AAD WAM extension error'",
    "Failed to get AAD token..",
    "Unknown error (Error: D0090016; Source: Unknown)",
    "Failed to get AAD token for 'S-1-5-18' from WAM API. Error 0xd0090016"]
write(S + '/F23', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK] + DEVICE_FAIL))
write(S + '/F24', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK]))
write(S + '/F25', 'SMS_AZUREAD_DISCOVERY_AGENT.log', site('SMS_AZUREAD_DISCOVERY_AGENT', [
    'Could not obtain application secret for tenant 9aaf466a-3f40-4468-b3cd-f0010f21f05a. If this is after a site expansion, please run "Renew Secret Key"']))
write(S + '/F25a', 'SMSAdminUI.log', cm('SMSAdminUI', ['Renew secret key failed: {\n  "odata.error": {\n    "code": "Authorization_RequestDenied",\n    "message": {\n      "lang": "en",\n      "value": "Insufficient privileges to complete the operation."\n    }\n  }\n}']))
write(S + '/F26', 'CCM_STS.log', cm('CCM_STS', ["ProcessRequest - Start",
    "Incoming request URL: https://MP.MYCORP.COM/CCM_STS",
    "Return code: 401, Description: PreAuth token validation failed",
    "System.IdentityModel.Tokens.SecurityTokenExpiredException: IDX10223: Lifetime validation failed. The token is expired.\nValidTo: '06/21/2020 08:00:00'\nCurrent time: '06/24/2020 08:00:03'."], bias=0))
write(S + '/F26c', 'ccmsetup.log', cm('ccmsetup', [
    "[CCMHTTP] ERROR: URL=https://%s/CCM_Proxy_ServerAuth/ServiceMetadata, Port=443, Options=224, Code=0, Text=CCM_E_BAD_HTTP_STATUS_CODE" % CMG,
    "[CCMHTTP] ERROR INFO: StatusCode=401 StatusText=CMGService_Invalid_Token"]))
write(S + '/F27', 'ccmsetup.log', cm('ccmsetup', CCMSETUP_START + [REVCHECK,
    "Getting CCM Token from https://cmg.contoso.com/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS",
    "[CCMHTTP] ERROR INFO: StatusCode=401 StatusText=CMGConnector_Unauthorized",
    "RetrieveTokenFromStsServerImpl failed with error 0x87d0027e",
    "Failed to get CCM access token and client doesn't have PKI issued cert to use SSL. Error 0x80070002",
    "DownloadFileByWinHTTP failed with a non-recoverable failure, 0x87d00455"]))
write(S + '/F28', 'CCM_STS.log', cm('CCM_STS', ["ProcessRequest - Start",
    "ProcessRequest - Exception: System.IO.FileLoadException: Could not load file or assembly 'System.IdentityModel.Tokens.JWT, Version=4.0.40306.1554, Culture=neutral, PublicKeyToken=31bf3856ad364e35' or one of its dependencies. The located assembly's manifest definition does not match the assembly reference. (Exception from HRESULT: 0x80131040)"]))
write(S + '/F30', 'SMSAdminUI.log', plain([
    "Microsoft.ConfigurationManagement.AdminConsole.AzureServices.AADAuthenticationException: The underlying connection was closed: An unexpected error occurred on a receive."]))
write(S + '/F31', 'CMGContentService.log', site('CMGContentService', [
    "ERROR: The client and server cannot communicate, because they do not possess a common algorithm"]))
write(S + '/F31d', 'DataTransferService.log', cm('DataTransferService', [
    "Error sending DAV request. HTTP code 400, status 'Bad Request'", "Error retrieving manifest (0x87d0027e)."]), 'utf-16le')
write(S + '/F32', 'ccmsetup.log', cm('ccmsetup', [
    "[CCMHTTP] ERROR: URL=https://mp.contoso.com/CCM_Client/ccmsetup.cab, Port=443, Options=480, Code=0x80092004, Text=CCM_E_NO_CLIENT_PKI_CERT"]))
write(S + '/F34', 'ClientIDManagerStartup.log', cm('ClientIDManagerStartup', ["[RegTask] - Starting registration, attempt 1.",
    "[RegTask] - Server rejected registration 3"]))
write(S + '/F34s', 'ClientIDManagerStartup.log', cm('ClientIDManagerStartup', ["Failed to find the certificate in the store",
    "[RegTask] - Server rejected registration 3"]))
write(S + '/F35', 'CloudMgr.log', site('SMS_CLOUD_SERVICES_MANAGER', [
    "ERROR: The vault name 'cmg' is already in use. Vault names are globaly unique so it is possible that the name is already taken."]))
write(S + '/F36', 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', [
    "ERROR: Failed to build Tcp connection 7f3db2a1 with server CONTOSOCMG.CLOUDAPP.NET:10141. Exception: System.Net.WebException: TCP CONNECTION: Failed to authenticate with proxy server ---> System.Net.Sockets.SocketException: A connection attempt failed because the connected party did not properly respond after a period of time"]))

# The documented happy flow (cmg-flow.md), every component.
F = 'flows/documented'
shutil.rmtree(F, ignore_errors=True)
T = BASE
write(F, 'ccmsetup.log', cm('ccmsetup', [
    "Getting AAD info from CMG 'CMG.CLOUDAPP.NET'",
    "SMS CCM 5.0: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=9aaf466a-3f40-4468-b3cd-f0010f21f05a, Port=443, Protocol=https, CcmTokenAuth=0, Flags=0x1304, Options=0xe0",
    "Created connection on port 443", REVCHECK] + DEVICE_FAIL + [
    "Falling back to get user 'S-1-5-21-1527250992-855612568-2252598708-1604' token for system...",
    "Getting AAD (user) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8, ResourceUrl = https://ConfigMgrService, AccountId = 149FC29A-ECE3-123-A3C1-123456F035A6E",
    "Retrieved AAD token for AAD user 'e8838041-db7a-42d5-b9ae-78813910e4cc'",
    "Getting CCM Token from STS server 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500'",
    "Getting CCM Token from https://cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500/CCM_STS",
    "Cached encrypted token for 'S-1-5-18'. Will expire at '06/25/2020 08:29:35'",
    "ccmsetup: Host=CMG.cloudapp.net, Path=/CCM_Proxy_ServerAuth7981/ccm_system_tokenauth/request, Port=443, Protocol=https, CcmTokenAuth=1, Flags=0x4100, Options=0xe0",
    "Created connection on port 443",
    "Sending location request to 'cmg.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500' with payload '< Request >",
    "Appending CCM Token to the header.",
    "Received message '<SiteInfoReply SchemaVersion=\"1.00\">  < reply > </SiteInfoReply>'",
    "Found a valid online MP 'https://CMG.cloudapp.net/CCM_PROXY_MutualAuth/72186325152220500",
    "Installing version 5.00.8968.1000 of the client with product code {66653948-0717-4D50-B0B9-ED66FDED2DDB}",
    "Running installation package"], bias=420), 'utf-16le')
write(F, 'CMG-CMG-ProxyService_IN_0-CMGService.log', site('CMGService', [
    "RequestUri: /CCM_PROXY_SERVERAUTH/72057594037937981/CCM_STS  RequestCount: 1  RequestSize: 1974 Bytes  ResponseCount: 1  ResponseSize: 1566 Bytes  AverageElapsedTime: 218 ms~~"], start=T + datetime.timedelta(seconds=22)))
write(F, 'SMS_CLOUD_PROXYCONNECTOR.log', site('SMS_CLOUD_PROXYCONNECTOR', [
    "Switched to internal URL. Replaced 'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' in   'https://CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500/CCM_STS' with 'https://MP.MYCORP.COM/CCM_STS' and got 'https:///MP.MYCORP.COM/CCM_STS~~",
    "MessageID: b90c8940-b368-4f4a-b22f-a8eaae90acb2 RequestURI: https://MP.MYCORP.COM/CCM_STS EndpointName: CCM_STS ResponseHeader: HTTP/1.1 200 Ok"], start=T + datetime.timedelta(seconds=22.2)))
write(F, 'CCM_STS.log', cm('CCM_STS', ["ProcessRequest - Start", "Incoming request URL: https://MP.MYCORP.COM/CCM_STS",
    "Validated AAD token. TokenType: UDA TenantId: 2ca9a796-a1a6-43ec-88f1-5935b32155c5 UserId: e8838041-db7a-42d5-b9ae-78813910e4cc DeviceId: 8d2b4ff9-0172-4998-9851-b5324303385f OnPrem_UserSid: S-1-5-21-1527250992-855612568-2252598708-1604 OnPrem_DeviceSid:",
    "TokenType is UDA",
    "Created SCCM token, token type: UDA, hierarchyId: 8ed3174b-e814-41b5-b51c-fb368f0d4003, userId: 23bbbba2-702e-4db4-8fd9-3b4fe3a5175d, deviceId: GUID:13E80CEF-5698-4C63-9ED6-E58FBFF78C38",
    "Issued token", "Return token to client"], bias=0, start=T + datetime.timedelta(seconds=22.3), step=0.01))
R = T + datetime.timedelta(minutes=10)
write(F, 'ClientIDManagerStartup.log', cm('ClientIDManagerStartup', [
    "AADJoinStatusTask: Client hasn't been registered yet.",
    "RegEndPoint: Event notification: CCM_RemoteClient_Reassigned",
    "RegEndPoint: Received notification for site assignment change from '<none>' to 'MEM'.",
    "[RegTask] - Starting registration, attempt 1.",
    "[RegTask] - Client is not registered. Sending registration request for GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139 ...",
    "Registering client using AAD auth.",
    "[RegTask] - Client is registered. Server assigned ClientID is GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139. Approval status 3",
    "Getting CCM Token from STS server 'MP.MYCORP.COM'",
    "Getting CCM Token from https://MP.MYCORP.COM/CCM_STS",
    "Cached encrypted token for 'S-1-5-18'. Will expire at '08/12/2020 18:55:40'"], bias=420, start=R, step=3), 'utf-8-sig')
write(F, 'ADALOperationProvider.log', cm('ADALOperationProvider', [
    "Getting AAD (user) token with: ClientId = 0b7c8ab3-9ea1-4ffa-b2b9-8ffdd944bd8, ResourceUrl = https://ConfigMgrService, AccountId = 9756a359-f76a-47d5-8662-9a837012fc35",
    "Retrieved AAD token for AAD user 'e8838041-db7a-42d5-b9ae-78813910e4cc'"], bias=420, start=R + datetime.timedelta(seconds=16)))
write(F, 'MP_RegistrationManager.log', site('MP_RegistrationManager', [
    "Registering device using AAD auth: DeviceId='8d2b4ff9-0172-4998-9851-b5324303385f ', TenantId='c8c82542-203c-4df9-9d86-cdd4dae67e0a'",
    "Processing Registration request from Client 'GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139'"], start=R + datetime.timedelta(seconds=18)))
N = T + datetime.timedelta(hours=8, minutes=5)
write(F, 'CcmMessaging.log', cm('CcmMessaging', [
    "Sending remote sync message '{BD03DEED-D09A-4E63-ADAD-596376FFB0DA}' to host 'CMG.CLOUDAPP.NET/CCM_Proxy_MutualAuth/72186325152220500' endpoint 'MP_PolicyManager'. Flags 0x280, sender account S-1-5-21-1721254763-462695806-1538882281-3289177",
    "CCM Token for 'S-1-5-8-1721254763-462695806-1538882281-3289177' (12/23/2019 21:47:24) is already expired or close to expire",
    "Getting CCM Token from https://CMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500/CCM_STS",
    "Cached encrypted token for 'S-1-5-21-1721254763-462695806-1538882281-3289177'. Will expire at '01/10/2020 17:14:54'",
    "ccmhttp: Host=CMG.CLOUDAPP.NET, Path=/CCM_Proxy_ServerAuth/72186325152220500/ccm_system_tokenauth/request, Port=443, Protocol=https, CcmTokenAuth=1, Flags=0x4200, Options=0x1e0",
    "Target URL scheme is HTTPS: https://CMG.CLOUDAPP.NET/CCM_Proxy_ServerAuth/72186325152220500/ccm_system_tokenauth/request",
    "Appending CCM Token to the header.",
    "Message '{BD03DEED-D09A-4E63-ADAD-596376FFB0DA}' got reply message '{36EE3A78-8F6E-425F-BF5C-8460E8E56C33}' to endpoint 'dummy'"], bias=420, start=N))

# F16/F37: the CMG refuses a PKI client certificate. No public log line is
# known (cmg-failures.md Gaps); these are the handshake simulator's modelled
# CMGService.log lines.
write(S + '/F16', 'CMGService.log', site('CMGService', [
    "Client certificate validation failed for 'CN=client01.contoso.com': verify: partial_chain: \"CN=client01.contoso.com\": no issuer found for CN=client01.contoso.com (issuer \"CN=contoso.com Lab Issuing CA\") in the intermediates or roots (CERT_E_CHAINING 0x800B010A)",
    "RequestUri: /CCM_PROXY_MUTUALAUTH/72186325152220500/CCM_SYSTEM/REQUEST  RequestCount: 1  RequestSize: 902 Bytes  ResponseCount: 1  ResponseSize: 233 Bytes  Status: 403"]))
write(S + '/F37', 'CMGService.log', site('CMGService', [
    "Client certificate validation failed for 'CN=client01.contoso.com': verify: revoked: \"CN=client01.contoso.com\": revoked (reason 1) according to OCSP http://crl.contoso.com/ocsp (CRYPT_E_REVOKED 0x80092010)",
    "RequestUri: /CCM_PROXY_MUTUALAUTH/72186325152220500/CCM_SYSTEM/REQUEST  RequestCount: 1  RequestSize: 902 Bytes  ResponseCount: 1  ResponseSize: 200 Bytes  Status: 403"]))
