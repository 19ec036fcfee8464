param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $hostName = [string]$p.hostName
    $c = Get-ADComputer -Server $p.dc -Filter 'DNSHostName -eq $hostName' -Properties @('DNSHostName')
    if (-not $c) { return $null }
    [ordered]@{
        objectGuid        = $c.ObjectGUID.ToString()
        objectClass       = 'computer'
        samAccountName    = $c.SamAccountName
        distinguishedName = $c.DistinguishedName
        dnsHostName       = $c.DNSHostName.ToLowerInvariant()
    }
}
