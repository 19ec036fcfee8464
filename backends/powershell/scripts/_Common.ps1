# Shared by every runbook script: one payload in (base64 UTF-8 JSON), one marked line out. Values arrive as data
# and reach cmdlets as parameter values or AD filter variables, never as script text.
Set-StrictMode -Version 3
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Read-RunbookPayload([string]$PayloadB64) {
    $json = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($PayloadB64))
    return ConvertFrom-Json -InputObject $json
}

function Write-RunbookResult($Value) {
    $json = ConvertTo-Json -InputObject $Value -Depth 8 -Compress
    '@@RESULT@@' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json))
}

function Write-RunbookError([System.Management.Automation.ErrorRecord]$Record) {
    $e = $Record.Exception
    $errorCode = $null
    if ($e.PSObject.Properties['ErrorCode'] -and ($e.ErrorCode -is [int])) { $errorCode = $e.ErrorCode }
    $origin = $null
    if ($Record.PSObject.Properties['OriginInfo'] -and $Record.OriginInfo) { $origin = [string]$Record.OriginInfo.PSComputerName }
    $info = [ordered]@{
        exceptionType         = $e.GetType().FullName
        message               = $e.Message
        fullyQualifiedErrorId = $Record.FullyQualifiedErrorId
        reason                = $Record.CategoryInfo.Reason
        category              = [string]$Record.CategoryInfo.Category
        hresult               = $e.HResult
        errorCode             = $errorCode
        origin                = $origin
    }
    $json = ConvertTo-Json -InputObject $info -Compress
    '@@ERROR@@' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes($json))
}

# Runs the body with the decoded payload; whatever it returns is the result, whatever it throws is the error line.
function Invoke-RunbookScript([string]$PayloadB64, [scriptblock]$Body) {
    try {
        $payload = Read-RunbookPayload $PayloadB64
        Write-RunbookResult (& $Body $payload)
    }
    catch {
        Write-RunbookError $_
    }
}

# A gMSA as the directory half of the backend interface describes it (principals as sAMAccountNames).
function ConvertTo-RunbookServiceAccount($Account, [string]$Server) {
    $principals = @(
        foreach ($dn in @($Account.PrincipalsAllowedToRetrieveManagedPassword)) {
            (Get-ADObject -Identity $dn -Server $Server -Properties sAMAccountName).sAMAccountName
        }
    )
    $bits = [int]($Account.'msDS-SupportedEncryptionTypes')
    $types = @()
    if ($bits -band 0x8) { $types += 'AES128' }
    if ($bits -band 0x10) { $types += 'AES256' }
    if ($bits -band 0x4) { $types += 'RC4' }
    [ordered]@{
        objectGuid                    = $Account.ObjectGUID.ToString()
        objectClass                   = 'msDS-GroupManagedServiceAccount'
        samAccountName                = $Account.SamAccountName
        distinguishedName             = $Account.DistinguishedName
        name                          = $Account.Name
        dnsHostName                   = $Account.DNSHostName
        description                   = $Account.Description
        principals                    = $principals
        kerberosEncryptionTypes       = $types
        managedPasswordIntervalInDays = [int]($Account.'msDS-ManagedPasswordInterval')
    }
}

$RunbookServiceAccountProperties = @(
    'DNSHostName', 'Description', 'PrincipalsAllowedToRetrieveManagedPassword',
    'msDS-SupportedEncryptionTypes', 'msDS-ManagedPasswordInterval'
)
