# New-ADServiceAccount on the pinned DC. DNSHostName is the account's own DNS name (not the domain's);
# computers are principals with their trailing $ (domain.md §1.10).
param([Parameter(Mandatory)][string]$PayloadB64)
. (Join-Path $PSScriptRoot '_Common.ps1')
Invoke-RunbookScript $PayloadB64 {
    param($p)
    $spec = $p.spec
    $params = @{
        Name                                       = [string]$spec.name
        SamAccountName                             = [string]$spec.name + '$'
        DNSHostName                                = [string]$spec.dnsHostName
        Description                                = [string]$spec.description
        PrincipalsAllowedToRetrieveManagedPassword = [string[]]@($spec.principals)
        KerberosEncryptionType                     = [string[]]@($spec.kerberosEncryptionTypes)
        ManagedPasswordIntervalInDays              = [int]$spec.managedPasswordIntervalInDays
        Server                                     = [string]$p.dc
        PassThru                                   = $true
    }
    $created = New-ADServiceAccount @params
    $account = Get-ADServiceAccount -Identity $created.ObjectGUID -Server $p.dc -Properties $RunbookServiceAccountProperties
    ConvertTo-RunbookServiceAccount $account $p.dc
}
